#pragma once
// What apply, resume, rollback and status report: the rollout and each
// target as the journal (or a check) knows them, in plan order.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "rollout/alignment.h"
#include "rollout/journal.h"
#include "rollout/plan.h"
#include "rollout/state.h"

namespace ck::rollout {

/// One target as the journal (or a check) knows it.
struct StepReport {
  std::string stage, target;
  StepState state = StepState::Pending;
  std::string detail;
  std::string output;  // the last command's output, secrets masked
  std::optional<Seconds> at;
};

struct Report {
  std::int64_t rollout_id = 0;  // 0: no rollout yet (status) or a check
  std::string plan;
  RolloutState state = RolloutState::None;
  std::string certificate;  // "stored 'x' version 3"
  std::string sha256, previous_sha256;
  std::optional<Seconds> started_at, finished_at;
  std::vector<StepReport> steps;      // plan order
  std::string failure;                // what stopped it, one line ("" when nothing did)
  std::vector<std::string> notes;     // hooks, pins, cleanup, checks
  std::vector<std::string> concerns;  // the notes that ask for a look (Progress::concern)
  [[nodiscard]] bool ok() const { return failure.empty(); }
};

/// A step's journal detail: the summary line, then the command's output.
[[nodiscard]] std::string step_detail(const std::string& summary, const std::string& output);

/// The report of a journaled rollout; targets without a row are pending.
[[nodiscard]] Report journal_report(const Plan& plan, const RolloutRow& rollout,
                                    const std::map<std::string, StepRow>& steps);
/// The report of a plan never rolled out: every target pending.
[[nodiscard]] Report none_report(const Plan& plan);
/// The report of a plan's certificate before anything ran (a check).
[[nodiscard]] Report base_report(const Plan& plan, const PlanCertificate& cert);

}  // namespace ck::rollout
