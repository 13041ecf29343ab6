#include "rollout/runner.h"

#include <algorithm>

#include "core/fault.h"
#include "core/file_io.h"
#include "rollout/backup_seal.h"
#include "rollout/bundle.h"
#include "rollout/check.h"
#include "rollout/cleanup.h"
#include "rollout/deployer.h"
#include "rollout/file_backup.h"
#include "rollout/hooks.h"
#include "rollout/parallel.h"
#include "rollout/pin_step.h"
#include "rollout/preconditions.h"
#include "rollout/probe_verifier.h"
#include "rollout/progress.h"

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
      sleep_(sleep ? std::move(sleep) : real_sleep()) {}

// One invocation of apply, resume or rollback: its journal, the material it
// deploys, and the parts that deploy, verify and report. Stage threads share
// it; each part guards itself.
class Runner::Run {
 public:
  Run(Runner& runner, const Plan& plan, const RunOptions& opts, PlanCertificate cert)
      : r_(runner),
        plan_(plan),
        opts_(opts),
        cert_(std::move(cert)),
        journal(runner.store_, runner.clock_),
        progress_(opts.progress),
        seal_(runner.passphrase_, runner.random_),
        deployer_(secrets_),
        verification_(*runner.verifier_, plan, opts.probe, runner.clock_, runner.sleep_, progress_,
                      cert_) {
    if (r_.passphrase_ != nullptr && !r_.passphrase_->empty())
      secrets_.push_back(r_.passphrase_->reveal());
  }

  // apply --check: check commands and probes; nothing written, no hook, no
  // journal.
  Result<Report> check() {
    CK_TRY(load_certificate_and_key());
    return check_plan(plan_, cert_, *bundle_, opts_.stage, opts_.probe, deployer_, r_.inventory_,
                      r_.clock_);
  }

  Status hooks(HookWhen when, const std::string& outcome) {
    return run_hooks(plan_, when, cert_, journal.id(), outcome, deployer_, progress_);
  }

  // Whether this run deploys anything (else the key is not needed: it may
  // have been cleaned up after a complete rollout).
  Status load_material() {
    for (const auto& stage : plan_.stages) {
      if (!selected(stage))
        continue;
      for (const auto& t : stage.targets) {
        if (const auto st = journal.step(t.name); !st || !deployed_before(st->state))
          return load_certificate_and_key();
      }
    }
    return {};
  }

  // apply and resume: the selected stages in order, then, once every target
  // of the plan is verified, pins and cleanup. A failure is journaled.
  Report roll_forward() {
    if (auto forward = forward_stages(); !forward) {
      failure_ = forward.error().message;
      (void)journal.set_state(RolloutState::Failed, failure_, true);
    }
    return close();
  }

  // The touched targets, newest stage first; what goes back on command
  // targets is checked before anything is touched.
  Result<std::vector<std::pair<const Stage*, const Target*>>> rollback_targets() {
    std::vector<std::pair<const Stage*, const Target*>> todo;
    for (auto s = plan_.stages.rbegin(); s != plan_.stages.rend(); ++s) {
      for (auto t = s->targets.rbegin(); t != s->targets.rend(); ++t) {
        if (const auto st = journal.step(t->name); st && touched(st->state))
          todo.emplace_back(&*s, &*t);
      }
    }
    const auto is_command = [](const auto& p) {
      return p.second->deploy.kind == DeployKind::Command;
    };
    if (std::none_of(todo.begin(), todo.end(), is_command))
      return todo;
    CK_ASSIGN(previous_, load_previous_bundle(plan_, r_.inventory_, cert_.sha256));
    if (previous_)
      secrets_.push_back(previous_->key_pem);
    CK_TRY(command_rollbacks_possible(plan_, todo, previous_));
    return todo;
  }

  // The previous certificate back on each target, then the pins; journaled
  // as rolled-back, or rollback-failed with what stopped it.
  Report roll_back(const std::vector<std::pair<const Stage*, const Target*>>& todo) {
    Status result;
    for (const auto& [s, t] : todo) {
      result = roll_back_target(*s, *t);
      if (!result)
        break;
    }
    if (result)
      result = restore_pins(journal, seal_, progress_);
    if (result) {
      (void)journal.set_state(RolloutState::RolledBack, "", true);
    } else {
      failure_ = result.error().message;
      (void)journal.set_state(RolloutState::RollbackFailed, failure_, true);
    }
    return close();
  }

 private:
  bool selected(const Stage& s) const { return opts_.stage.empty() || s.name == opts_.stage; }

  bool verified(const Target& t) const {
    const auto st = journal.step(t.name);
    return st && st->state == StepState::Verified;
  }

  Status load_certificate_and_key() {
    CK_ASSIGN(auto b, load_bundle(plan_, r_.inventory_, cert_.sha256, r_.clock_.now_seconds()));
    secrets_.push_back(b.key_pem);
    bundle_ = std::move(b);
    return {};
  }

  Expect expect_new() const { return {cert_.sha256, "", "the new certificate", true}; }

  Status apply_target(const Stage& stage, const Target& t) {
    const auto before = journal.step(t.name);
    const std::string where = stage.name + "/" + t.name;
    if (before && deployed_before(before->state)) {
      progress_.say(where + ": deployed earlier; verifying again");
      if (auto v = verification_.wait_for(t, expect_new()); !v) {
        // Its deploy succeeded once: resume probes it again rather than
        // deploying over whatever changed it since.
        CK_TRY(journal.mark(stage, t, StepState::ReverifyFailed,
                            "probing again failed: " + v.error().message));
        return fail(v.error().code, where + " (deployed earlier): " + v.error().message);
      }
      return journal.mark(stage, t, StepState::Verified, "verified again (deployed earlier)");
    }
    StepRow s{t.name, stage.name, StepState::Deploying, {}, "", "", false};
    if (t.deploy.kind == DeployKind::Files) {
      if (before && !before->backup.empty()) {
        s.backup = before->backup;  // the files as they were before this rollout's first try
        s.backup_sealed = before->backup_sealed;
      } else {
        CK_ASSIGN(const auto states, capture(file_paths(t.deploy)));
        CK_TRY(seal_.keep(s, states, journal.id()));
      }
    }
    // Journal first: a crash from here on leaves a record rollback can use.
    CK_TRY(journal.put(s));
    CK_FAULT_POINT("rollout.after_backup");
    progress_.say(where + ": deploying");
    std::string output;
    if (auto d = deployer_.deploy(t, *bundle_, output); !d) {
      CK_TRY(journal.mark(stage, t, StepState::Failed, step_detail(d.error().message, output)));
      return fail(d.error().code, where + ": " + d.error().message);
    }
    CK_TRY(journal.mark(stage, t, StepState::Deployed, step_detail("deployed", output)));
    CK_FAULT_POINT("rollout.after_deploy");
    progress_.say(where + ": deployed; verifying " + std::to_string(t.endpoints.size()) +
                  " endpoint" + (t.endpoints.size() == 1 ? "" : "s"));
    if (auto v = verification_.wait_for(t, expect_new()); !v) {
      CK_TRY(journal.mark(stage, t, StepState::Failed, step_detail(v.error().message, output)));
      return fail(v.error().code, where + ": " + v.error().message);
    }
    CK_TRY(journal.mark(stage, t, StepState::Verified, step_detail("verified", output)));
    progress_.say(where + ": verified");
    return {};
  }

  Status forward_stages() {
    for (const auto& stage : plan_.stages) {
      if (!selected(stage))
        continue;
      progress_.say("stage " + stage.name);
      std::vector<const Target*> targets;
      for (const auto& t : stage.targets)
        targets.push_back(&t);
      CK_TRY(for_each_parallel(targets, stage.parallel,
                               [&](const Target* t) { return apply_target(stage, *t); }));
    }
    // A stage run on its own leaves the others as they were: a target that
    // failed earlier keeps the rollout failed.
    for (const auto& stage : plan_.stages) {
      for (const auto& t : stage.targets) {
        if (const auto st = journal.step(t.name);
            st && (st->state == StepState::Failed || st->state == StepState::ReverifyFailed))
          return fail(Code::FailedPrecondition, stage.name + "/" + t.name + " is still " +
                                                    to_string(st->state) + ": " +
                                                    st->detail.substr(0, st->detail.find('\n')));
      }
    }
    const bool all_verified =
        std::all_of(plan_.stages.begin(), plan_.stages.end(), [&](const Stage& s) {
          return std::all_of(s.targets.begin(), s.targets.end(),
                             [&](const Target& t) { return verified(t); });
        });
    if (!all_verified)
      return journal.set_state(RolloutState::Partial, "", false);
    CK_TRY(rewrite_pins(plan_, r_.inventory_, cert_.sha256, journal, seal_, progress_));
    CK_TRY(journal.set_state(RolloutState::Done, "", true));
    // Done but the key not yet wiped: `rollout apply` again wipes it.
    CK_FAULT_POINT("rollout.before_cleanup");
    // After `done` is recorded: a key that cannot be wiped is reported, and
    // does not turn a complete, verified rollout into a failed one.
    const auto problems = wipe_cleanup_files(plan_, progress_);
    if (!problems.empty())
      failure_ = "the rollout is done, but cleanup failed: " + problems.front();
    return {};
  }

  Status roll_back_target(const Stage& stage, const Target& t) {
    const auto st = *journal.step(t.name);
    const std::string where = stage.name + "/" + t.name;
    progress_.say(where + ": rolling back");
    // The previous certificate when known; else anything but the new one.
    Expect expect{cert_.previous_sha256, cert_.sha256, "the previous certificate"};
    std::string output;
    Status done;
    if (t.deploy.kind == DeployKind::Files) {
      auto backup = seal_.open(st, journal.id());
      if (!backup) {
        done = fail(backup.error());
      } else {
        // The certificate the files held before is what must be served again.
        if (auto held = restored_sha256(t.deploy, *backup))
          expect.sha256 = *held;
        done = deployer_.restore(t, *backup, output);
      }
    } else {
      CK_ASSIGN(done, deployer_.roll_back(t, plan_.certificate.name, previous_, output));
    }
    if (done)
      done = verification_.wait_for(t, expect);
    // Put back but not yet marked: the next rollback puts it back again.
    CK_FAULT_POINT("rollout.rollback_before_mark");
    if (!done) {
      CK_TRY(journal.mark(stage, t, StepState::RollbackFailed,
                          step_detail(done.error().message, output)));
      return fail(done.error().code, where + ": " + done.error().message);
    }
    CK_TRY(journal.mark(stage, t, StepState::RolledBack, step_detail("rolled back", output)));
    CK_FAULT_POINT("rollout.rollback_after_mark");
    progress_.say(where + ": rolled back");
    return {};
  }

  // Runs the after hooks, whatever the outcome, and reports the run.
  Report close() {
    const auto outcome = journal.rollout().state;
    if (auto after = hooks(HookWhen::After, to_string(outcome)); !after) {
      progress_.note(after.error().message);
      if (failure_.empty())
        failure_ =
            std::string("the rollout is ") + to_string(outcome) + ", but " + after.error().message;
    }
    auto rep = journal_report(plan_, journal.rollout(), journal.steps());
    rep.failure = failure_;
    rep.notes = progress_.notes();
    return rep;
  }

  Runner& r_;
  const Plan& plan_;
  const RunOptions& opts_;
  PlanCertificate cert_;
  std::vector<std::string> secrets_;  // masked in every journaled output

 public:
  Journal journal;

 private:
  Progress progress_;
  BackupSeal seal_;
  Deployer deployer_;
  Verification verification_;
  std::optional<CertBundle> bundle_;    // what is deployed (apply, resume, check)
  std::optional<CertBundle> previous_;  // what rollback puts on command targets
  std::string failure_;
};

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

Result<Report> Runner::apply(const Plan& plan, const RunOptions& options) {
  CK_ASSIGN(const auto cert, prepare(plan, options.stage, options));
  Run run(*this, plan, options, cert);
  if (options.check)
    return run.check();

  CK_ASSIGN(const auto lock, lock_plan(lock_dir_, plan));
  CK_ASSIGN(const auto last, last_rollout(store_, plan));
  CK_TRY(may_apply(plan, last, cert));
  const bool continuing =
      last && (last->state == RolloutState::Partial || last->state == RolloutState::Done) &&
      last->cert_sha256 == cert.sha256;
  if (continuing) {
    CK_TRY(run.journal.open(*last));
  }
  CK_TRY(earlier_stages_verified(plan, options.stage, run.journal.steps()));
  CK_TRY(run.load_material());
  CK_TRY(run.hooks(HookWhen::Before, "started"));
  if (continuing) {
    CK_TRY(run.journal.set_state(RolloutState::Running, "", false));
  } else {
    CK_TRY(run.journal.begin(plan, cert));  // journal first
  }
  return run.roll_forward();
}

Result<Report> Runner::resume(const Plan& plan, const RunOptions& options) {
  CK_ASSIGN(const auto cert, prepare(plan, options.stage, options));
  CK_ASSIGN(const auto lock, lock_plan(lock_dir_, plan));
  CK_ASSIGN(const auto last, last_rollout(store_, plan));
  CK_TRY(may_resume(plan, last, cert));
  Run run(*this, plan, options, cert);
  CK_TRY(run.journal.open(*last));
  CK_TRY(earlier_stages_verified(plan, options.stage, run.journal.steps()));
  CK_TRY(run.load_material());
  CK_TRY(run.hooks(HookWhen::Before, "started"));
  CK_TRY(run.journal.set_state(RolloutState::Running, "", false));
  return run.roll_forward();
}

Result<Report> Runner::rollback(const Plan& plan, const RunOptions& options) {
  CK_ASSIGN(auto cert, prepare(plan, "", options));
  CK_ASSIGN(const auto lock, lock_plan(lock_dir_, plan));
  CK_ASSIGN(const auto last, last_rollout(store_, plan));
  CK_TRY(may_roll_back(plan, last));
  cert.sha256 = last->cert_sha256;  // what the journal deployed, whatever the plan says now
  cert.previous_sha256 = last->previous_sha256;
  Run run(*this, plan, options, cert);
  CK_TRY(run.journal.open(*last));
  CK_TRY(touched_targets_in_plan(plan, last->id, run.journal.steps()));
  CK_ASSIGN(const auto todo, run.rollback_targets());
  CK_TRY(run.hooks(HookWhen::Before, "rolling-back"));
  CK_TRY(run.journal.set_state(RolloutState::RollingBack, "", false));
  return run.roll_back(todo);
}

}  // namespace ck::rollout
