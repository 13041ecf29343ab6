#pragma once
// The journal: the store's record of one rollout and of what it did to each
// target. Everything is journaled before it is done ("journal first"), so a
// crash or a failure leaves a record that resume and rollback start from. One
// process at a time runs a rollout of a plan: the plan's lock.

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/file_io.h"
#include "rollout/alignment.h"
#include "rollout/plan.h"
#include "rollout/state.h"
#include "store/store.h"

namespace ck::rollout {

/// The pseudo-target under which the pin files' backup is journaled.
inline constexpr const char* kPinsStep = "#pins";

/// A rollout as the journal holds it (store::RolloutRecord, typed).
struct RolloutRow {
  std::int64_t id = 0;
  std::string plan;  // plan_key
  std::string cert_source;
  std::string cert_sha256;
  std::string previous_sha256;
  RolloutState state = RolloutState::Running;
  Seconds started_at{};
  std::optional<Seconds> finished_at;
  std::string detail;  // what stopped it
};

/// What a rollout did to one target (store::RolloutStepRecord, typed).
struct StepRow {
  std::string target;
  std::string stage;
  StepState state = StepState::Pending;
  Seconds at{};
  std::string detail;  // a one-line summary, then the command's masked output
  std::string backup;  // what a files deploy replaced; sealed when backup_sealed
  bool backup_sealed = false;
};

/// The key under which the journal files a plan: its absolute path.
[[nodiscard]] std::string plan_key(const Plan& plan);

/// The plan's lock (under `dir`), held for a whole apply, resume or rollback;
/// Unavailable at once when another process holds it.
[[nodiscard]] Result<FileLock> lock_plan(const std::filesystem::path& dir, const Plan& plan);
/// What lock_plan would say, taking nothing and making no file (a check).
[[nodiscard]] Status plan_not_locked(const std::filesystem::path& dir, const Plan& plan);

/// The plan's newest rollout (nullopt: none yet).
[[nodiscard]] Result<std::optional<RolloutRow>> last_rollout(store::Store& store, const Plan& plan);

/// One rollout's rows. Writers on several stage threads share it: every
/// method is safe to call concurrently. A row changes here only once the
/// store has committed it, so what it says is what the journal holds.
class Journal {
 public:
  Journal(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  /// Continues `row` (a rollout journaled earlier): reads its steps.
  [[nodiscard]] Status open(RolloutRow row);
  /// Journals a new running rollout of `cert`, before anything is deployed.
  [[nodiscard]] Status begin(const Plan& plan, const PlanCertificate& cert);

  [[nodiscard]] std::int64_t id() const { return rollout().id; }
  [[nodiscard]] RolloutRow rollout() const;
  [[nodiscard]] std::optional<StepRow> step(const std::string& target) const;
  [[nodiscard]] std::map<std::string, StepRow> steps() const;

  /// Writes a step row as given (its time is now).
  [[nodiscard]] Status put(StepRow row);
  /// Updates a target's state and detail, keeping its backup.
  [[nodiscard]] Status mark(const Stage& stage, const Target& target, StepState state,
                            const std::string& detail);
  /// Updates the rollout's state; `finished` stamps its end.
  [[nodiscard]] Status set_state(RolloutState state, const std::string& detail, bool finished);

 private:
  store::Store& store_;
  const Clock& clock_;
  mutable std::mutex mu_;
  RolloutRow rollout_;
  std::map<std::string, StepRow> steps_;
};

/// The journal rows of rollout `id`, by target name.
[[nodiscard]] Result<std::map<std::string, StepRow>> load_steps(store::Store& store,
                                                                std::int64_t id);

}  // namespace ck::rollout
