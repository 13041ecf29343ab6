#pragma once
// The states a rollout and each of its targets go through (docs/rollout.md).
// The journal stores them as text (store::RolloutRecord::state,
// store::RolloutStepRecord::state); these are the only spellings.

#include <string_view>

#include "core/error.h"

namespace ck::rollout {

/// A rollout as a whole. The journal holds Running, Partial, Done, Failed,
/// RollingBack, RolledBack and RollbackFailed; None (no rollout of the plan
/// yet) and Checked (apply --check) are only ever reported.
enum class RolloutState {
  None,
  Running,
  Partial,  // the stages run so far are verified, others are not run yet
  Done,
  Failed,
  RollingBack,
  RolledBack,
  RollbackFailed,
  Checked,
};

/// One target of a rollout. The journal holds Deploying through
/// RollbackFailed; Pending (not reached yet), Checked and CheckFailed (apply
/// --check) are only ever reported.
enum class StepState {
  Pending,
  Deploying,  // journaled before the deploy starts: a crash here is rolled back
  Deployed,
  Verified,
  Failed,
  // Verified once, but its endpoints no longer served the new certificate
  // when probed again: not redeployed (something changed it since; a person
  // looks), and not counted as verified.
  ReverifyFailed,
  RolledBack,
  RollbackFailed,
  Checked,
  CheckFailed,
};

[[nodiscard]] const char* to_string(RolloutState s);
[[nodiscard]] const char* to_string(StepState s);
/// The state a journal row holds; an unknown text is a damaged row (Storage).
[[nodiscard]] Result<RolloutState> parse_rollout_state(std::string_view text);
[[nodiscard]] Result<StepState> parse_step_state(std::string_view text);

/// Deployed once in this rollout: later runs probe it, never deploy it again.
[[nodiscard]] bool deployed_before(StepState s);
/// Anything in the journal past "not reached": what rollback puts back.
[[nodiscard]] bool touched(StepState s);
/// A rollout that a later apply starts afresh rather than continues.
[[nodiscard]] bool finished(RolloutState s);
/// Stopped while being rolled back: only rollback may run next.
[[nodiscard]] bool rolling_back(RolloutState s);

}  // namespace ck::rollout
