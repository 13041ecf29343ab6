#pragma once
// Running a plan: `apply` (stage by stage, target by target: deploy, then
// probe until every endpoint serves the new certificate), `resume` (from
// where a rollout stopped), `rollback` (the previous certificate back on
// every target that got the new one) and `status`. Everything a rollout
// does is written to the store's journal before it is done, so a crash or a
// failure leaves a record that resume and rollback start from; the files a
// `files` deploy replaces are kept there, sealed with the CA passphrase.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/pem.h"
#include "core/random.h"
#include "probe/scanner.h"
#include "rollout/alignment.h"
#include "rollout/journal.h"
#include "rollout/plan.h"
#include "rollout/report.h"
#include "rollout/verifier.h"
#include "servercert/inventory.h"
#include "store/store.h"

namespace ck::rollout {

struct RunOptions {
  bool check = false;  // apply --check: run check commands and probes, change nothing
  std::string stage;   // only this stage ("" = all)
  probe::ProbeOptions probe;
  /// Lines for a person watching (each step as it starts and ends); may be
  /// called from several threads at once, never concurrently.
  std::function<void(const std::string&)> progress;
};

struct RunContext;

class Runner {
 public:
  /// `verifier` defaults to real handshakes (ProbeVerifier), `sleep` (the
  /// waits between verification tries) to a real sleep; tests pass fakes
  /// that go with a fake clock.
  Runner(store::Store& store, servercert::Inventory& inventory, const Clock& clock,
         const Secret* passphrase, RandomSource& random, std::filesystem::path lock_dir,
         std::unique_ptr<Verifier> verifier = nullptr, Sleep sleep = nullptr);

  /// Starts a rollout of the plan's certificate, or continues one of the
  /// same certificate that ran stage by stage. Refuses when a rollout of the
  /// plan stopped on a failure (resume or roll it back first).
  [[nodiscard]] Result<Report> apply(const Plan& plan, const RunOptions& options);
  /// Continues the plan's stopped rollout: targets already verified are
  /// probed again, not redeployed; the failed one is deployed again.
  [[nodiscard]] Result<Report> resume(const Plan& plan, const RunOptions& options);
  /// Puts back what the plan's last rollout replaced, newest stage first,
  /// each target verified by handshake.
  [[nodiscard]] Result<Report> rollback(const Plan& plan, const RunOptions& options);
  /// The plan's last rollout from the journal (no probing).
  [[nodiscard]] Result<Report> status(const Plan& plan);

 private:
  /// What a run works with: this runner's parts (run.h).
  [[nodiscard]] RunContext context();
  /// The checks every run starts with, then the plan's certificate.
  [[nodiscard]] Result<PlanCertificate> prepare(const Plan& plan, const std::string& stage,
                                                const RunOptions& options);
  store::Store& store_;
  servercert::Inventory& inventory_;
  const Clock& clock_;
  const Secret* passphrase_;
  RandomSource& random_;
  std::filesystem::path lock_dir_;
  std::unique_ptr<Verifier> verifier_;
  Sleep sleep_;
};

}  // namespace ck::rollout
