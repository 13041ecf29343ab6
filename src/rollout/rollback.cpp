#include "rollout/run.h"

#include <unistd.h>

#include <algorithm>
#include <map>

#include "core/fault.h"
#include "core/file_io.h"
#include "core/fingerprint.h"
#include "core/join.h"
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
  CK_ASSIGN(previous_, load_previous_bundle(plan_, ctx_.inventory, cert_.sha256, key_upgrade()));
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

Result<Report> Run::check_rollback(const std::vector<StageTarget>& todo) {
  Report rep = base_report(plan_, cert_);
  rep.state = RolloutState::Checked;
  CK_ASSIGN(const auto alignment, check_alignment(plan_, cert_, opts_.probe, ctx_.clock));
  // Where each target's endpoints start in the alignment (plan order).
  std::map<const Target*, std::size_t> first_endpoint;
  std::size_t e = 0;
  for (const auto& stage : plan_.stages) {
    for (const auto& t : stage.targets) {
      first_endpoint[&t] = e;
      e += t.endpoints.size();
    }
  }
  for (const auto& [s, t] : todo) {
    StepReport sr{s->name, t->name, StepState::Checked, "", "", std::nullopt};
    std::vector<std::string> parts;
    if (t->deploy.kind == DeployKind::Files) {
      // The backup roll_back would open, opened: a seal that does not open
      // (another passphrase) fails here, not half-way through a rollback.
      auto backup = seal_.open(*journal_.step(t->name), journal_.id());
      if (!backup) {
        sr.state = StepState::CheckFailed;
        parts.push_back("its backup does not open: " + backup.error().message);
      } else {
        for (const auto& f : *backup) {
          auto current = read_file(f.path);
          // The restore writes beside the file and renames: its folder must let it.
          const auto dir = f.path.has_parent_path() ? f.path.parent_path() : ".";
          if (::access(dir.c_str(), W_OK | X_OK) != 0) {
            sr.state = StepState::CheckFailed;
            parts.push_back("cannot write into " + dir.string());
            continue;
          }
          parts.push_back(f.path.string() +
                          (!f.existed ? (current ? " would be removed" : " absent, stays absent")
                           : current && *current == f.bytes ? " holds the backup already"
                                                            : " would be put back"));
        }
        if (const auto held = restored_sha256(t->deploy, *backup))
          parts.push_back("then serves " + short_fp(*held));
        if (!t->deploy.reload.empty())
          parts.push_back("reload: " + join(t->deploy.reload) + " (not run)");
      }
    } else {
      const auto& argv =
          t->deploy.rollback_command.empty() ? t->deploy.command : t->deploy.rollback_command;
      parts.push_back("would run " + join(argv) +
                      (previous_
                           ? " with the previous certificate " + short_fp(cert_.previous_sha256)
                           : std::string()) +
                      " (not run)");
    }
    for (std::size_t k = 0; k < t->endpoints.size(); ++k) {
      const auto& ep = alignment.endpoints[first_endpoint[t] + k];
      parts.push_back(ep.probe.target.text + " serves " + std::string(serving_name(ep.serving)) +
                      (ep.probe.ok ? "" : " (" + ep.probe.error + ")"));
    }
    for (const auto& p : parts)
      sr.detail += (sr.detail.empty() ? "" : "; ") + p;
    if (sr.state == StepState::CheckFailed && rep.failure.empty())
      rep.failure = s->name + "/" + t->name + ": " + sr.detail;
    rep.steps.push_back(std::move(sr));
  }
  // The pins as restore_pins() would put them back: their sealed backup opened.
  if (const auto pins = journal_.step(std::string(kPinsStep));
      pins && pins->state != StepState::RolledBack) {
    auto states = seal_.open(*pins, journal_.id());
    if (!states) {
      rep.notes.push_back("pins: their backup does not open: " + states.error().message);
      if (rep.failure.empty())
        rep.failure = "pins: their backup does not open: " + states.error().message;
    } else {
      rep.notes.push_back("pins: " + std::to_string(states->size()) +
                          " file(s) the rollout edited would be put back (not done)");
    }
  }
  for (const auto& h : plan_.hooks)
    rep.notes.push_back("hook " + std::string(to_string(h.when)) + ": " + join(h.command) +
                        " (not run)");
  if (todo.empty())
    rep.notes.push_back("no target was touched: nothing to put back");
  return rep;
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
