#include "rollout/hooks.h"

#include "core/join.h"
#include "core/time_format.h"
#include "rollout/report.h"

namespace ck::rollout {
namespace {

Variables hook_variables(const Plan& plan, const PlanCertificate& cert, std::int64_t rollout_id,
                         const std::string& outcome) {
  return {{"name", plan.certificate.name.empty() ? plan.certificate.cert_file->stem().string()
                                                 : plan.certificate.name},
          {"fingerprint_sha256", cert.sha256},
          {"fingerprint_md5", cert.md5},
          {"not_after", format_iso8601(cert.not_after)},
          {"rollout", rollout_id != 0 ? std::to_string(rollout_id) : ""},
          {"outcome", outcome}};
}

}  // namespace

Status run_hooks(const Plan& plan, HookWhen when, const PlanCertificate& cert,
                 std::int64_t rollout_id, const std::string& outcome, const Deployer& deployer,
                 Progress& progress) {
  const std::string name = to_string(when);
  // A failing `before` hook stops the rollout before anything is touched.
  // `after` hooks are the clean-up (closing a maintenance window, reloading
  // a monitor): one failing must not leave the others undone, so each runs,
  // and the first failure is returned.
  Status first;
  for (const auto& h : plan.hooks) {
    if (h.when != when)
      continue;
    progress.say("hook " + name + ": " + join(h.command));
    std::string output;
    auto ran = deployer.command(h.command, hook_variables(plan, cert, rollout_id, outcome),
                                h.timeout, "hook " + name, output);
    if (!ran && when == HookWhen::Before)
      return ran;
    if (!ran && first)
      first = std::move(ran);
  }
  return first;
}

}  // namespace ck::rollout
