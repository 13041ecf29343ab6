#pragma once
// The plan's hooks (docs/rollout.md, "Hooks"): commands run before a rollout
// or rollback changes anything, and after it ended, with the certificate's
// name, fingerprints and the outcome as {{variables}}.

#include <cstdint>
#include <string>

#include "core/error.h"
#include "rollout/alignment.h"
#include "rollout/deployer.h"
#include "rollout/plan.h"
#include "rollout/progress.h"

namespace ck::rollout {

/// Runs the plan's hooks of `when` in plan order; the first that fails stops
/// them. `outcome` is {{outcome}}: "started", "rolling-back", or the state a
/// rollout ended in.
[[nodiscard]] Status run_hooks(const Plan& plan, HookWhen when, const PlanCertificate& cert,
                               std::int64_t rollout_id, const std::string& outcome,
                               const Deployer& deployer, Progress& progress);

}  // namespace ck::rollout
