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
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/pem.h"
#include "core/random.h"
#include "probe/scanner.h"
#include "rollout/alignment.h"
#include "rollout/plan.h"
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

/// One target as the journal (or a check) knows it.
struct StepReport {
  std::string stage, target;
  std::string state;  // pending, deploying, deployed, verified, failed, rolled-back, ...
  std::string detail;
  std::string output;  // the last command's output, secrets masked
  std::optional<Seconds> at;
};

struct Report {
  std::int64_t rollout_id = 0;  // 0: no rollout yet (status) or a check
  std::string plan;
  std::string state;        // done, partial, failed, running, rolled-back, rollback-failed, checked
  std::string certificate;  // "stored 'x' version 3"
  std::string sha256, previous_sha256;
  std::optional<Seconds> started_at, finished_at;
  std::vector<StepReport> steps;   // plan order
  std::string failure;             // what stopped it, one line ("" when nothing did)
  std::vector<std::string> notes;  // hooks, pins, cleanup, checks
  [[nodiscard]] bool ok() const { return failure.empty(); }
};

class Runner {
 public:
  Runner(store::Store& store, servercert::Inventory& inventory, const Clock& clock,
         const Secret* passphrase, RandomSource& random, std::filesystem::path lock_dir);

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
  struct Run;
  [[nodiscard]] Result<std::optional<store::RolloutRecord>> last_rollout(const Plan& plan);
  /// Rolls `run` forward, records how it ended, runs the after hooks.
  [[nodiscard]] Result<Report> finish(Run& run);
  store::Store& store_;
  servercert::Inventory& inventory_;
  const Clock& clock_;
  const Secret* passphrase_;
  RandomSource& random_;
  std::filesystem::path lock_dir_;
};

/// The key under which the journal files a plan: its absolute path.
[[nodiscard]] std::string plan_key(const Plan& plan);

}  // namespace ck::rollout
