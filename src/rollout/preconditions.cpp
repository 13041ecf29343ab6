#include "rollout/preconditions.h"

#include <algorithm>

#include "core/fingerprint.h"
#include "rollout/deployer.h"
#include "rollout/report.h"

namespace ck::rollout {
namespace {

std::string rollout_of(const RolloutRow& last, const Plan& plan) {
  return "rollout " + std::to_string(last.id) + " of '" + plan.file.string() + "'";
}

bool in_plan(const Plan& plan, const std::string& target) {
  return std::any_of(plan.stages.begin(), plan.stages.end(), [&](const Stage& s) {
    return std::any_of(s.targets.begin(), s.targets.end(),
                       [&](const Target& t) { return t.name == target; });
  });
}

}  // namespace

Status may_apply(const Plan& plan, const std::optional<RolloutRow>& last,
                 const PlanCertificate& cert) {
  if (!last || finished(last->state))
    return {};
  const std::string file = plan.file.string();
  if (rolling_back(last->state)) {
    return fail(Code::FailedPrecondition,
                rollout_of(*last, plan) + " was being rolled back (" + to_string(last->state) +
                    "); run `certkeeper rollout rollback " + file + "` again");
  }
  if (last->state != RolloutState::Partial) {
    return fail(Code::FailedPrecondition, rollout_of(*last, plan) + " stopped (" +
                                              to_string(last->state) +
                                              (last->detail.empty() ? "" : ": " + last->detail) +
                                              "); run `certkeeper rollout resume " + file +
                                              "` or `certkeeper rollout rollback " + file + "`");
  }
  if (last->cert_sha256 != cert.sha256) {
    return fail(Code::FailedPrecondition,
                "rollout " + std::to_string(last->id) + " of another certificate (sha256 " +
                    short_fp(last->cert_sha256) +
                    "…) is half done; roll it back first (`certkeeper rollout rollback " + file +
                    "`), then apply the new one");
  }
  return {};
}

Status may_resume(const Plan& plan, const std::optional<RolloutRow>& last,
                  const PlanCertificate& cert) {
  if (!last)
    return fail(Code::FailedPrecondition, "no rollout of '" + plan.file.string() + "' to resume");
  if (finished(last->state)) {
    return fail(Code::FailedPrecondition,
                rollout_of(*last, plan) + " is " + to_string(last->state) + "; nothing to resume");
  }
  if (rolling_back(last->state)) {
    return fail(Code::FailedPrecondition, "rollout " + std::to_string(last->id) +
                                              " was being rolled back; run `certkeeper "
                                              "rollout rollback " +
                                              plan.file.string() + "` again");
  }
  if (last->cert_sha256 != cert.sha256) {
    return fail(Code::FailedPrecondition, "the plan's certificate changed since rollout " +
                                              std::to_string(last->id) + " began (sha256 " +
                                              short_fp(last->cert_sha256) + "… then, " +
                                              short_fp(cert.sha256) + "… now); roll it back first");
  }
  return {};
}

Status earlier_stages_verified(const Plan& plan, const std::string& stage,
                               const std::map<std::string, StepRow>& steps) {
  if (stage.empty())
    return {};
  for (const auto& s : plan.stages) {
    if (s.name == stage)
      return {};
    for (const auto& t : s.targets) {
      const auto it = steps.find(t.name);
      if (it == steps.end() || it->second.state != StepState::Verified) {
        return fail(Code::FailedPrecondition,
                    "stage " + s.name + " comes before " + stage + " and " + t.name +
                        " is not verified; run `certkeeper rollout apply " + plan.file.string() +
                        " --stage " + s.name + "` first");
      }
    }
  }
  return {};
}

Status may_roll_back(const Plan& plan, const std::optional<RolloutRow>& last) {
  if (!last)
    return fail(Code::FailedPrecondition,
                "no rollout of '" + plan.file.string() + "' to roll back");
  if (last->state == RolloutState::RolledBack)
    return fail(Code::FailedPrecondition, rollout_of(*last, plan) + " was rolled back already");
  return {};
}

Status touched_targets_in_plan(const Plan& plan, std::int64_t rollout_id,
                               const std::map<std::string, StepRow>& steps) {
  for (const auto& [name, st] : steps) {
    if (name != kPinsStep && touched(st.state) && !in_plan(plan, name)) {
      return fail(Code::FailedPrecondition,
                  "rollout " + std::to_string(rollout_id) + " deployed to target \"" + name +
                      "\", which '" + plan.file.string() +
                      "' no longer has; put it back in the plan to roll it back");
    }
  }
  return {};
}

Status command_rollbacks_possible(
    const Plan& plan, const std::vector<std::pair<const Stage*, const Target*>>& targets,
    const std::optional<CertBundle>& previous) {
  for (const auto& [s, t] : targets) {
    if (t->deploy.kind == DeployKind::Command && !previous && t->deploy.rollback_command.empty()) {
      return fail(Code::FailedPrecondition,
                  plan_line(plan, t->line) + ": " + t->name +
                      " has no rollback_command and the plan names no previous certificate "
                      "(previous_cert_file and previous_key_file) to deploy instead");
    }
  }
  return {};
}

}  // namespace ck::rollout
