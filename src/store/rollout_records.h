#pragma once
// One capability of a store (see store/store.h): the rollout journal: one row per rollout, one per
// step.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class RolloutRecords {
 public:
  virtual ~RolloutRecords() = default;

  [[nodiscard]] virtual Result<std::int64_t> insert_rollout(const RolloutRecord& r) = 0;
  [[nodiscard]] virtual Status update_rollout(std::int64_t id, std::string_view state,
                                              std::optional<Seconds> finished_at,
                                              std::string_view detail) = 0;
  /// The newest rollout of a plan.
  [[nodiscard]] virtual Result<std::optional<RolloutRecord>> last_rollout(
      std::string_view plan) = 0;
  /// Inserts or replaces the step of (rollout_id, target).
  [[nodiscard]] virtual Status put_rollout_step(const RolloutStepRecord& step) = 0;
  [[nodiscard]] virtual Result<std::vector<RolloutStepRecord>> rollout_steps(
      std::int64_t rollout_id) = 0;
  /// Every step of every rollout that kept a backup, by rollout and target:
  /// what a passphrase change seals anew.
  [[nodiscard]] virtual Result<std::vector<RolloutStepRecord>> rollout_steps_with_backup() = 0;
};

}  // namespace ck::store
