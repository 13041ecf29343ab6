#pragma once
// What may follow the plan's last rollout (docs/rollout.md, "Stopping and
// starting again"): each refusal says what to run instead. All are checked
// before anything is changed.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "rollout/alignment.h"
#include "rollout/bundle.h"
#include "rollout/journal.h"
#include "rollout/plan.h"

namespace ck::rollout {

/// `apply` starts from nothing or a finished rollout, or continues one of
/// the same certificate that ran stage by stage (partial).
[[nodiscard]] Status may_apply(const Plan& plan, const std::optional<RolloutRow>& last,
                               const PlanCertificate& cert);
/// `resume` continues a stopped rollout of the plan's certificate.
[[nodiscard]] Status may_resume(const Plan& plan, const std::optional<RolloutRow>& last,
                                const PlanCertificate& cert);
/// `--stage NAME` only after every earlier stage is verified: canary first.
[[nodiscard]] Status earlier_stages_verified(const Plan& plan, const std::string& stage,
                                             const std::map<std::string, StepRow>& steps);
/// `rollback` undoes a rollout not rolled back yet.
[[nodiscard]] Status may_roll_back(const Plan& plan, const std::optional<RolloutRow>& last);

/// Every touched row must still be a target of the plan: a target renamed or
/// removed since would otherwise keep the new certificate unnoticed.
[[nodiscard]] Status touched_targets_in_plan(const Plan& plan, std::int64_t rollout_id,
                                             const std::map<std::string, StepRow>& steps);
/// A command target is rolled back by its rollback_command, or by its deploy
/// command given the previous certificate: one of them must exist.
[[nodiscard]] Status command_rollbacks_possible(
    const Plan& plan, const std::vector<std::pair<const Stage*, const Target*>>& targets,
    const std::optional<CertBundle>& previous);

}  // namespace ck::rollout
