#include "rollout/state.h"

#include <array>
#include <string>
#include <utility>

namespace ck::rollout {
namespace {

constexpr std::array kRolloutStates = {
    RolloutState::None,       RolloutState::Running,        RolloutState::Partial,
    RolloutState::Done,       RolloutState::Failed,         RolloutState::RollingBack,
    RolloutState::RolledBack, RolloutState::RollbackFailed, RolloutState::Checked,
};

constexpr std::array kStepStates = {
    StepState::Pending, StepState::Deploying,      StepState::Deployed,   StepState::Verified,
    StepState::Failed,  StepState::ReverifyFailed, StepState::RolledBack, StepState::RollbackFailed,
    StepState::Checked, StepState::CheckFailed,
};

template <class State, std::size_t N>
Result<State> parse_state(const std::array<State, N>& all, std::string_view text,
                          const char* what) {
  for (const auto s : all) {
    if (text == to_string(s))
      return s;
  }
  return fail(Code::Storage, std::string("unknown ") + what + " state '" + std::string(text) +
                                 "' in the rollout journal");
}

}  // namespace

const char* to_string(RolloutState s) {
  switch (s) {
    case RolloutState::None:
      return "none";
    case RolloutState::Running:
      return "running";
    case RolloutState::Partial:
      return "partial";
    case RolloutState::Done:
      return "done";
    case RolloutState::Failed:
      return "failed";
    case RolloutState::RollingBack:
      return "rolling-back";
    case RolloutState::RolledBack:
      return "rolled-back";
    case RolloutState::RollbackFailed:
      return "rollback-failed";
    case RolloutState::Checked:
      return "checked";
  }
  return "failed";
}

// A step that failed, was rolled back or checked reads like a rollout that did.
const char* to_string(StepState s) {
  switch (s) {
    case StepState::Pending:
      return "pending";
    case StepState::Deploying:
      return "deploying";
    case StepState::Deployed:
      return "deployed";
    case StepState::Verified:
      return "verified";
    case StepState::Failed:
      return to_string(RolloutState::Failed);
    case StepState::ReverifyFailed:
      return "reverify-failed";
    case StepState::RolledBack:
      return to_string(RolloutState::RolledBack);
    case StepState::RollbackFailed:
      return to_string(RolloutState::RollbackFailed);
    case StepState::Checked:
      return to_string(RolloutState::Checked);
    case StepState::CheckFailed:
      return "check-failed";
  }
  return to_string(RolloutState::Failed);
}

Result<RolloutState> parse_rollout_state(std::string_view text) {
  return parse_state(kRolloutStates, text, "rollout");
}

Result<StepState> parse_step_state(std::string_view text) {
  return parse_state(kStepStates, text, "step");
}

bool deployed_before(StepState s) {
  return s == StepState::Verified || s == StepState::ReverifyFailed;
}

bool touched(StepState s) {
  return s == StepState::Deploying || s == StepState::Deployed || s == StepState::Verified ||
         s == StepState::Failed || s == StepState::ReverifyFailed || s == StepState::RollbackFailed;
}

bool finished(RolloutState s) {
  return s == RolloutState::Done || s == RolloutState::RolledBack;
}

bool rolling_back(RolloutState s) {
  return s == RolloutState::RollbackFailed || s == RolloutState::RollingBack;
}

}  // namespace ck::rollout
