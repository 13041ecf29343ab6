#include "rollout/run.h"

#include <algorithm>

#include "core/fault.h"
#include "rollout/check.h"
#include "rollout/cleanup.h"
#include "rollout/file_backup.h"
#include "rollout/hooks.h"
#include "rollout/parallel.h"
#include "rollout/pin_step.h"

namespace ck::rollout {

Run::Run(const RunContext& ctx, const Plan& plan, const RunOptions& opts, PlanCertificate cert)
    : ctx_(ctx),
      plan_(plan),
      opts_(opts),
      cert_(std::move(cert)),
      journal_(ctx.store, ctx.clock),
      progress_(opts.progress),
      seal_(ctx.passphrase, ctx.random),
      deployer_(secrets_),
      verification_(ctx.verifier, plan, opts.probe, ctx.clock, ctx.sleep, progress_, cert_) {
  if (ctx.passphrase != nullptr && !ctx.passphrase->empty())
    secrets_.push_back(ctx.passphrase->reveal());
}

Result<Report> Run::check() {
  CK_TRY(load_certificate_and_key());
  return check_plan(plan_, cert_, *bundle_, opts_.stage, opts_.probe, deployer_, ctx_.inventory,
                    ctx_.clock);
}

Status Run::hooks(HookWhen when, const std::string& outcome) {
  return run_hooks(plan_, when, cert_, journal_.id(), outcome, deployer_, progress_);
}

Status Run::load_material() {
  for (const auto& stage : plan_.stages) {
    if (!selected(stage))
      continue;
    for (const auto& t : stage.targets) {
      if (const auto st = journal_.step(t.name); !st || !deployed_before(st->state))
        return load_certificate_and_key();
    }
  }
  return {};
}

Report Run::roll_forward() {
  if (auto forward = forward_stages(); !forward) {
    failure_ = forward.error().message;
    (void)journal_.set_state(RolloutState::Failed, failure_, true);
  }
  return close();
}

bool Run::verified(const Target& t) const {
  const auto st = journal_.step(t.name);
  return st && st->state == StepState::Verified;
}

Status Run::load_certificate_and_key() {
  CK_ASSIGN(auto b, load_bundle(plan_, ctx_.inventory, cert_.sha256, ctx_.clock.now_seconds(),
                                key_upgrade()));
  secrets_.push_back(b.key_pem);
  bundle_ = std::move(b);
  return {};
}

Status Run::forward_stages() {
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
      if (const auto st = journal_.step(t.name);
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
    return journal_.set_state(RolloutState::Partial, "", false);
  CK_TRY(rewrite_pins(plan_, ctx_.inventory, cert_.sha256, journal_, seal_, progress_));
  CK_TRY(journal_.set_state(RolloutState::Done, "", true));
  // Done but the key not yet wiped: `rollout apply` again wipes it.
  CK_FAULT_POINT("rollout.before_cleanup");
  // After `done` is recorded: a key that cannot be wiped is reported, and
  // does not turn a complete, verified rollout into a failed one.
  const auto problems = wipe_cleanup_files(plan_, progress_);
  if (!problems.empty())
    failure_ = "the rollout is done, but cleanup failed: " + problems.front();
  return {};
}

Status Run::apply_target(const Stage& stage, const Target& t) {
  const auto before = journal_.step(t.name);
  const std::string where = stage.name + "/" + t.name;
  if (before && deployed_before(before->state)) {
    progress_.say(where + ": deployed earlier; verifying again");
    if (auto v = verification_.wait_for(t, expect_new()); !v) {
      // Its deploy succeeded once: resume probes it again rather than
      // deploying over whatever changed it since.
      CK_TRY(journal_.mark(stage, t, StepState::ReverifyFailed,
                           "probing again failed: " + v.error().message));
      return fail(v.error().code, where + " (deployed earlier): " + v.error().message);
    }
    return journal_.mark(stage, t, StepState::Verified, "verified again (deployed earlier)");
  }
  StepRow s{t.name, stage.name, StepState::Deploying, {}, "", "", false};
  if (t.deploy.kind == DeployKind::Files) {
    if (before && !before->backup.empty()) {
      s.backup = before->backup;  // the files as they were before this rollout's first try
      s.backup_sealed = before->backup_sealed;
    } else {
      CK_ASSIGN(const auto states, capture(file_paths(t.deploy)));
      CK_TRY(seal_.keep(s, states, journal_.id()));
    }
  }
  // Journal first: a crash from here on leaves a record rollback can use.
  CK_TRY(journal_.put(s));
  CK_FAULT_POINT("rollout.after_backup");
  progress_.say(where + ": deploying");
  std::string output;
  if (auto d = deployer_.deploy(t, *bundle_, output); !d) {
    CK_TRY(journal_.mark(stage, t, StepState::Failed, step_detail(d.error().message, output)));
    return fail(d.error().code, where + ": " + d.error().message);
  }
  CK_TRY(journal_.mark(stage, t, StepState::Deployed, step_detail("deployed", output)));
  CK_FAULT_POINT("rollout.after_deploy");
  progress_.say(where + ": deployed; verifying " + std::to_string(t.endpoints.size()) +
                " endpoint" + (t.endpoints.size() == 1 ? "" : "s"));
  if (auto v = verification_.wait_for(t, expect_new()); !v) {
    CK_TRY(journal_.mark(stage, t, StepState::Failed, step_detail(v.error().message, output)));
    return fail(v.error().code, where + ": " + v.error().message);
  }
  CK_TRY(journal_.mark(stage, t, StepState::Verified, step_detail("verified", output)));
  progress_.say(where + ": verified");
  return {};
}

Report Run::close() {
  const auto outcome = journal_.rollout().state;
  if (auto after = hooks(HookWhen::After, to_string(outcome)); !after) {
    progress_.concern(after.error().message);
    if (failure_.empty())
      failure_ =
          std::string("the rollout is ") + to_string(outcome) + ", but " + after.error().message;
  }
  auto rep = journal_report(plan_, journal_.rollout(), journal_.steps());
  rep.failure = failure_;
  rep.notes = progress_.notes();
  rep.concerns = progress_.concerns();
  return rep;
}

}  // namespace ck::rollout
