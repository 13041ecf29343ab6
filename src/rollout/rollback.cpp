#include "rollout/run.h"

#include <algorithm>

#include "core/fault.h"
#include "rollout/pin_step.h"
#include "rollout/preconditions.h"

namespace ck::rollout {

Result<std::vector<StageTarget>> Run::rollback_targets() {
  std::vector<StageTarget> todo;
  for (auto s = plan_.stages.rbegin(); s != plan_.stages.rend(); ++s) {
    for (auto t = s->targets.rbegin(); t != s->targets.rend(); ++t) {
      if (const auto st = journal_.step(t->name); st && touched(st->state))
        todo.emplace_back(&*s, &*t);
    }
  }
  const auto is_command = [](const auto& p) {
    return p.second->deploy.kind == DeployKind::Command;
  };
  if (std::none_of(todo.begin(), todo.end(), is_command))
    return todo;
  CK_ASSIGN(previous_, load_previous_bundle(plan_, ctx_.inventory, cert_.sha256));
  if (previous_)
    secrets_.push_back(previous_->key_pem);
  CK_TRY(command_rollbacks_possible(plan_, todo, previous_));
  return todo;
}

Report Run::roll_back(const std::vector<StageTarget>& todo) {
  Status result;
  for (const auto& [s, t] : todo) {
    result = roll_back_target(*s, *t);
    if (!result)
      break;
  }
  if (result)
    result = restore_pins(journal_, seal_, progress_);
  if (result) {
    (void)journal_.set_state(RolloutState::RolledBack, "", true);
  } else {
    failure_ = result.error().message;
    (void)journal_.set_state(RolloutState::RollbackFailed, failure_, true);
  }
  return close();
}

Status Run::roll_back_target(const Stage& stage, const Target& t) {
  const auto st = *journal_.step(t.name);
  const std::string where = stage.name + "/" + t.name;
  progress_.say(where + ": rolling back");
  // The previous certificate when known; else anything but the new one.
  Expect expect{cert_.previous_sha256, cert_.sha256, "the previous certificate"};
  std::string output;
  Status done;
  if (t.deploy.kind == DeployKind::Files) {
    auto backup = seal_.open(st, journal_.id());
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
    CK_TRY(journal_.mark(stage, t, StepState::RollbackFailed,
                         step_detail(done.error().message, output)));
    return fail(done.error().code, where + ": " + done.error().message);
  }
  CK_TRY(journal_.mark(stage, t, StepState::RolledBack, step_detail("rolled back", output)));
  CK_FAULT_POINT("rollout.rollback_after_mark");
  progress_.say(where + ": rolled back");
  return {};
}

}  // namespace ck::rollout
