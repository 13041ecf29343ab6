#include "rollout/runner.h"

#include "rollout/deployer.h"
#include "rollout/preconditions.h"
#include "rollout/probe_verifier.h"
#include "rollout/run.h"

namespace ck::rollout {

Runner::Runner(store::Store& store, servercert::Inventory& inventory, const Clock& clock,
               const Secret* passphrase, RandomSource& random, std::filesystem::path lock_dir,
               std::unique_ptr<Verifier> verifier, Sleep sleep)
    : store_(store),
      inventory_(inventory),
      clock_(clock),
      passphrase_(passphrase),
      random_(random),
      lock_dir_(std::move(lock_dir)),
      verifier_(verifier ? std::move(verifier) : std::make_unique<ProbeVerifier>(clock)),
      sleep_(sleep ? std::move(sleep) : Sleep(real_sleep)) {}

RunContext Runner::context() {
  return {store_, inventory_, clock_, passphrase_, random_, *verifier_, sleep_};
}

Result<PlanCertificate> Runner::prepare(const Plan& plan, const std::string& stage,
                                        const RunOptions& options) {
  CK_TRY(preflight(plan, stage, *verifier_, options.probe));
  return resolve_certificate(plan, &inventory_);
}

Result<Report> Runner::status(const Plan& plan) {
  CK_ASSIGN(const auto last, last_rollout(store_, plan));
  if (!last)
    return none_report(plan);
  CK_ASSIGN(const auto steps, load_steps(store_, last->id));
  auto rep = journal_report(plan, *last, steps);
  if (const auto it = steps.find(kPinsStep); it != steps.end())
    rep.notes.push_back(std::string("pins: ") + to_string(it->second.state) + " " +
                        it->second.detail);
  if (last->state == RolloutState::Running || last->state == RolloutState::RollingBack)
    rep.failure =
        std::string("interrupted while ") + to_string(last->state) + " (a crash, or still running)";
  return rep;
}

// docs/rollout.md, "Applying a plan": everything checked before anything is
// touched, the before hooks, the journal, then the stages (run.cpp).
Result<Report> Runner::apply(const Plan& plan, const RunOptions& options) {
  CK_ASSIGN(const auto cert, prepare(plan, options.stage, options));
  Run run(context(), plan, options, cert);
  if (options.check)
    return run.check();

  CK_ASSIGN(const auto lock, lock_plan(lock_dir_, plan));
  CK_ASSIGN(const auto last, last_rollout(store_, plan));
  CK_TRY(may_apply(plan, last, cert));
  const bool continuing =
      last && (last->state == RolloutState::Partial || last->state == RolloutState::Done) &&
      last->cert_sha256 == cert.sha256;
  if (continuing) {
    CK_TRY(run.journal().open(*last));
  }
  CK_TRY(earlier_stages_verified(plan, options.stage, run.journal().steps()));
  CK_TRY(run.load_material());
  CK_TRY(run.hooks(HookWhen::Before, "started"));
  if (continuing) {
    CK_TRY(run.journal().set_state(RolloutState::Running, "", false));
  } else {
    CK_TRY(run.journal().begin(plan, cert));  // journal first
  }
  return run.roll_forward();
}

// docs/rollout.md, "Status, resume, rollback": the stopped rollout, with the
// certificate it started with.
Result<Report> Runner::resume(const Plan& plan, const RunOptions& options) {
  CK_ASSIGN(const auto cert, prepare(plan, options.stage, options));
  CK_ASSIGN(const auto lock, lock_plan(lock_dir_, plan));
  CK_ASSIGN(const auto last, last_rollout(store_, plan));
  CK_TRY(may_resume(plan, last, cert));
  Run run(context(), plan, options, cert);
  CK_TRY(run.journal().open(*last));
  CK_TRY(earlier_stages_verified(plan, options.stage, run.journal().steps()));
  CK_TRY(run.load_material());
  CK_TRY(run.hooks(HookWhen::Before, "started"));
  CK_TRY(run.journal().set_state(RolloutState::Running, "", false));
  return run.roll_forward();
}

// Every touched target back to what it had, newest stage first, then the
// pins (rollback.cpp); what it needs is checked before anything runs.
Result<Report> Runner::rollback(const Plan& plan, const RunOptions& options) {
  CK_ASSIGN(auto cert, prepare(plan, "", options));
  // --check goes through every decision below, then reports instead of
  // acting; it writes nothing, not even the plan's lock file.
  std::optional<FileLock> lock;
  if (options.check) {
    CK_TRY(plan_not_locked(lock_dir_, plan));
  } else {
    CK_ASSIGN(auto taken, lock_plan(lock_dir_, plan));
    lock.emplace(std::move(taken));
  }
  CK_ASSIGN(const auto last, last_rollout(store_, plan));
  CK_TRY(may_roll_back(plan, last));
  cert.sha256 = last->cert_sha256;  // what the journal deployed, whatever the plan says now
  cert.previous_sha256 = last->previous_sha256;
  Run run(context(), plan, options, cert);
  CK_TRY(run.journal().open(*last));
  CK_TRY(touched_targets_in_plan(plan, last->id, run.journal().steps()));
  CK_ASSIGN(const auto todo, run.rollback_targets());
  if (options.check)
    return run.check_rollback(todo);
  CK_TRY(run.hooks(HookWhen::Before, to_string(RolloutState::RollingBack)));
  CK_TRY(run.journal().set_state(RolloutState::RollingBack, "", false));
  return run.roll_back(todo);
}

}  // namespace ck::rollout
