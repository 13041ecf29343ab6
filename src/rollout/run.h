#pragma once
// One invocation of apply, resume or rollback (runner.h): its journal, the
// material it deploys, and the parts that deploy, verify and report. Stage
// threads share it; each part guards itself. Rolling forward is run.cpp,
// rolling back rollback.cpp.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"
#include "rollout/alignment.h"
#include "rollout/backup_seal.h"
#include "rollout/bundle.h"
#include "rollout/deployer.h"
#include "rollout/journal.h"
#include "rollout/plan.h"
#include "rollout/progress.h"
#include "rollout/report.h"
#include "rollout/runner.h"
#include "rollout/verifier.h"
#include "servercert/inventory.h"
#include "store/store.h"

namespace ck::rollout {

/// What every run works with (the Runner's collaborators).
struct RunContext {
  store::Store& store;
  servercert::Inventory& inventory;
  const Clock& clock;
  const Secret* passphrase;
  RandomSource& random;
  Verifier& verifier;
  const Sleep& sleep;
};

/// A target of the plan with its stage.
using StageTarget = std::pair<const Stage*, const Target*>;

class Run {
 public:
  Run(const RunContext& ctx, const Plan& plan, const RunOptions& opts, PlanCertificate cert);

  [[nodiscard]] Journal& journal() { return journal_; }

  /// apply --check: check commands and probes; nothing written, no hook, no
  /// journal.
  [[nodiscard]] Result<Report> check();
  /// The plan's hooks of `when` (`outcome` is {{outcome}}).
  [[nodiscard]] Status hooks(HookWhen when, const std::string& outcome);
  /// Loads the certificate and key when this run deploys anything (else the
  /// key is not needed: it may have been cleaned up after a complete rollout).
  [[nodiscard]] Status load_material();
  /// apply and resume: the selected stages in order, then, once every target
  /// of the plan is verified, pins and cleanup. A failure is journaled; the
  /// after hooks run whatever the outcome.
  [[nodiscard]] Report roll_forward();

  /// The touched targets, newest stage first; what goes back on command
  /// targets is checked (and loaded) before anything is touched.
  [[nodiscard]] Result<std::vector<StageTarget>> rollback_targets();
  /// The previous certificate back on each target, then the pins; journaled
  /// as rolled-back, or rollback-failed with what stopped it. The after hooks
  /// run whatever the outcome.
  [[nodiscard]] Report roll_back(const std::vector<StageTarget>& targets);
  /// rollback --check: what roll_back would put back on each of `targets`
  /// (each files target's journaled backup opened, each command named) and
  /// what its endpoints serve now; nothing written, run or journaled.
  [[nodiscard]] Result<Report> check_rollback(const std::vector<StageTarget>& targets);

 private:
  [[nodiscard]] bool selected(const Stage& s) const {
    return opts_.stage.empty() || s.name == opts_.stage;
  }
  [[nodiscard]] bool verified(const Target& t) const;
  /// A check stores nothing, not even a key re-encrypted on opening.
  [[nodiscard]] servercert::KeyUpgrade key_upgrade() const {
    return opts_.check ? servercert::KeyUpgrade::Skip : servercert::KeyUpgrade::Store;
  }
  [[nodiscard]] Status load_certificate_and_key();
  [[nodiscard]] Expect expect_new() const {
    return {cert_.sha256, "", "the new certificate", true};
  }
  [[nodiscard]] Status forward_stages();
  [[nodiscard]] Status apply_target(const Stage& stage, const Target& t);
  [[nodiscard]] Status roll_back_target(const Stage& stage, const Target& t);
  /// Runs the after hooks and reports the run.
  [[nodiscard]] Report close();

  RunContext ctx_;  // references to the Runner's parts
  const Plan& plan_;
  const RunOptions& opts_;
  PlanCertificate cert_;
  std::vector<std::string> secrets_;  // masked in every journaled output
  Journal journal_;
  Progress progress_;
  BackupSeal seal_;
  Deployer deployer_;
  Verification verification_;
  std::optional<CertBundle> bundle_;    // what is deployed (apply, resume, check)
  std::optional<CertBundle> previous_;  // what rollback puts on command targets
  std::string failure_;
};

}  // namespace ck::rollout
