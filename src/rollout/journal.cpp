#include "rollout/journal.h"

#include <openssl/evp.h>

#include "core/fault.h"
#include "core/hex.h"

namespace ck::rollout {
namespace {

std::string lock_name(const std::string& key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  if (EVP_Q_digest(nullptr, "SHA256", nullptr, key.data(), key.size(), md, &len) != 1)
    return "rollout.lock";
  return "rollout-" + to_hex(std::string_view(reinterpret_cast<const char*>(md), 8)) + ".lock";
}

Result<RolloutRow> from_record(const store::RolloutRecord& r) {
  CK_ASSIGN(const auto state, parse_rollout_state(r.state));
  return RolloutRow{r.id,  r.plan,       r.cert_source, r.cert_sha256, r.previous_sha256,
                    state, r.started_at, r.finished_at, r.detail};
}

store::RolloutRecord to_record(const RolloutRow& r) {
  return {r.id,
          r.plan,
          r.cert_source,
          r.cert_sha256,
          r.previous_sha256,
          to_string(r.state),
          r.started_at,
          r.finished_at,
          r.detail};
}

}  // namespace

std::string plan_key(const Plan& plan) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(plan.file), ec);
  return (ec ? std::filesystem::absolute(plan.file) : p).string();
}

Result<FileLock> lock_plan(const std::filesystem::path& dir, const Plan& plan) {
  CK_ASSIGN(auto lock, FileLock::try_acquire(dir / lock_name(plan_key(plan))));
  if (!lock) {
    return fail(Code::Unavailable, "another certkeeper is running a rollout of '" +
                                       plan.file.string() + "'; wait for it to finish");
  }
  return std::move(*lock);
}

Status plan_not_locked(const std::filesystem::path& dir, const Plan& plan) {
  CK_ASSIGN(const bool held, FileLock::held_elsewhere(dir / lock_name(plan_key(plan))));
  if (held) {
    return fail(Code::Unavailable, "another certkeeper is running a rollout of '" +
                                       plan.file.string() + "'; wait for it to finish");
  }
  return {};
}

Result<std::optional<RolloutRow>> last_rollout(store::Store& store, const Plan& plan) {
  CK_ASSIGN(auto tx, store.read());
  CK_ASSIGN(const auto last, tx->last_rollout(plan_key(plan)));
  if (!last)
    return std::optional<RolloutRow>();
  CK_ASSIGN(auto row, from_record(*last));
  return std::optional<RolloutRow>(std::move(row));
}

Result<std::map<std::string, StepRow>> load_steps(store::Store& store, std::int64_t id) {
  CK_ASSIGN(auto tx, store.read());
  CK_ASSIGN(auto rows, tx->rollout_steps(id));
  std::map<std::string, StepRow> steps;
  for (auto& r : rows) {
    CK_ASSIGN(const auto state, parse_step_state(r.state));
    steps[r.target] = StepRow{
        r.target, r.stage, state, r.at, std::move(r.detail), std::move(r.backup), r.backup_sealed};
  }
  return steps;
}

Status Journal::open(RolloutRow row) {
  CK_ASSIGN(auto steps, load_steps(store_, row.id));
  std::lock_guard lock(mu_);
  rollout_ = std::move(row);
  steps_ = std::move(steps);
  return {};
}

Status Journal::begin(const Plan& plan, const PlanCertificate& cert) {
  RolloutRow row;
  row.plan = plan_key(plan);
  row.cert_source = cert.describe;
  row.cert_sha256 = cert.sha256;
  row.previous_sha256 = cert.previous_sha256;
  row.state = RolloutState::Running;
  row.started_at = clock_.now_seconds();
  std::lock_guard lock(mu_);
  CK_ASSIGN(auto tx, store_.write());
  CK_ASSIGN(row.id, tx->insert_rollout(to_record(row)));
  CK_TRY(tx->commit());
  rollout_ = std::move(row);
  steps_.clear();
  CK_FAULT_POINT("rollout.after_journal");
  return {};
}

RolloutRow Journal::rollout() const {
  std::lock_guard lock(mu_);
  return rollout_;
}

std::optional<StepRow> Journal::step(const std::string& target) const {
  std::lock_guard lock(mu_);
  const auto it = steps_.find(target);
  if (it == steps_.end())
    return std::nullopt;
  return it->second;
}

std::map<std::string, StepRow> Journal::steps() const {
  std::lock_guard lock(mu_);
  return steps_;
}

Status Journal::put(StepRow row) {
  row.at = clock_.now_seconds();
  std::lock_guard lock(mu_);
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(tx->put_rollout_step({rollout_.id, row.target, row.stage, to_string(row.state), row.at,
                               row.detail, row.backup, row.backup_sealed}));
  CK_TRY(tx->commit());
  steps_[row.target] = std::move(row);
  return {};
}

Status Journal::mark(const Stage& stage, const Target& target, StepState state,
                     const std::string& detail) {
  auto row = step(target.name).value_or(StepRow{});
  row.target = target.name;
  row.stage = stage.name;
  row.state = state;
  row.detail = detail;
  return put(std::move(row));
}

Status Journal::set_state(RolloutState state, const std::string& detail, bool finished) {
  std::lock_guard lock(mu_);
  const auto finished_at = finished ? std::optional(clock_.now_seconds()) : rollout_.finished_at;
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(tx->update_rollout(rollout_.id, to_string(state), finished_at, detail));
  CK_TRY(tx->commit());
  rollout_.state = state;
  rollout_.detail = detail;
  rollout_.finished_at = finished_at;
  return {};
}

}  // namespace ck::rollout
