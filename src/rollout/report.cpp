#include "rollout/report.h"

namespace ck::rollout {
namespace {

StepReport to_report(const StepRow& r) {
  StepReport out{r.stage, r.target, r.state, r.detail, "", r.at};
  if (const auto nl = r.detail.find('\n'); nl != std::string::npos) {
    out.detail = r.detail.substr(0, nl);
    out.output = r.detail.substr(nl + 1);
  }
  return out;
}

}  // namespace

std::string step_detail(const std::string& summary, const std::string& output) {
  return output.empty() ? summary : summary + "\n" + output;
}

Report journal_report(const Plan& plan, const RolloutRow& rollout,
                      const std::map<std::string, StepRow>& steps) {
  Report rep;
  rep.rollout_id = rollout.id;
  rep.plan = plan.file.string();
  rep.state = rollout.state;
  rep.certificate = rollout.cert_source;
  rep.sha256 = rollout.cert_sha256;
  rep.previous_sha256 = rollout.previous_sha256;
  rep.started_at = rollout.started_at;
  rep.finished_at = rollout.finished_at;
  for (const auto& s : plan.stages) {
    for (const auto& t : s.targets) {
      const auto it = steps.find(t.name);
      if (it == steps.end())
        rep.steps.push_back({s.name, t.name, StepState::Pending, "", "", std::nullopt});
      else
        rep.steps.push_back(to_report(it->second));
    }
  }
  if (rollout.state == RolloutState::Failed || rollout.state == RolloutState::RollbackFailed ||
      rollout.state == RolloutState::Running || rollout.state == RolloutState::RollingBack)
    rep.failure = rollout.detail;
  return rep;
}

Report none_report(const Plan& plan) {
  Report rep;
  rep.plan = plan.file.string();
  rep.state = RolloutState::None;
  for (const auto& s : plan.stages) {
    for (const auto& t : s.targets)
      rep.steps.push_back({s.name, t.name, StepState::Pending, "", "", std::nullopt});
  }
  return rep;
}

Report base_report(const Plan& plan, const PlanCertificate& cert) {
  Report rep;
  rep.plan = plan.file.string();
  rep.certificate = cert.describe;
  rep.sha256 = cert.sha256;
  rep.previous_sha256 = cert.previous_sha256;
  return rep;
}

}  // namespace ck::rollout
