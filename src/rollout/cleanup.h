#pragma once
// The plan's cleanup (docs/rollout.md): files, such as a key handed to the
// rollout, overwritten and removed once the rollout is done and verified.

#include <string>
#include <vector>

#include "rollout/plan.h"
#include "rollout/progress.h"

namespace ck::rollout {

/// Wipes every cleanup file, noting each; returns the problems (a file that
/// could not be wiped), which do not undo a done rollout.
[[nodiscard]] std::vector<std::string> wipe_cleanup_files(const Plan& plan, Progress& progress);

}  // namespace ck::rollout
