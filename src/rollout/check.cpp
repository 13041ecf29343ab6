#include "rollout/check.h"

#include <unistd.h>

#include "core/file_io.h"
#include "core/join.h"
#include "core/pem.h"
#include "rollout/pins.h"

namespace ck::rollout {

Result<Report> check_plan(const Plan& plan, const PlanCertificate& cert, const CertBundle& bundle,
                          const std::string& stage_name, const probe::ProbeOptions& probe_options,
                          const Deployer& deployer, servercert::Inventory& inventory,
                          const Clock& clock) {
  Report rep = base_report(plan, cert);
  rep.state = RolloutState::Checked;
  CK_ASSIGN(const auto alignment, check_alignment(plan, cert, probe_options, clock, stage_name));
  std::size_t e = 0;
  for (const auto& stage : plan.stages) {
    if (!stage_name.empty() && stage.name != stage_name)
      continue;
    for (const auto& t : stage.targets) {
      StepReport sr{stage.name, t.name, StepState::Checked, "", "", std::nullopt};
      std::vector<std::string> parts;
      if (t.deploy.kind == DeployKind::Files) {
        for (const auto& [path, content] : file_contents(t.deploy, bundle)) {
          auto current = read_file(path);
          const auto dir =
              path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
          if (::access(dir.c_str(), W_OK) != 0) {
            sr.state = StepState::CheckFailed;
            parts.push_back("cannot write into " + dir.string());
          } else {
            parts.push_back(path.string() + (!current               ? " would be created"
                                             : *current == *content ? " unchanged"
                                                                    : " would change"));
          }
        }
        if (!t.deploy.reload.empty())
          parts.push_back("then reload: " + join(t.deploy.reload) + " (not run)");
      } else if (t.deploy.check_command.empty()) {
        parts.push_back("no check_command; deploy: " + join(t.deploy.command) + " (not run)");
      } else {
        CK_ASSIGN(const auto scratch, ScratchFiles::write(bundle));
        std::string output;
        auto st = deployer.command(t.deploy.check_command,
                                   command_variables(bundle, scratch_paths(scratch)),
                                   t.deploy.timeout, "check", output);
        sr.output = output;
        if (!st) {
          sr.state = StepState::CheckFailed;
          parts.push_back(st.error().message);
        } else {
          parts.push_back("check: " + join(t.deploy.check_command) + " passed");
        }
      }
      for (std::size_t k = 0; k < t.endpoints.size(); ++k, ++e) {
        const auto& ep = alignment.endpoints[e];
        const auto refusal = client_refusal(ep.probe, ep.verify_chain);
        parts.push_back(ep.probe.target.text + " serves " + std::string(serving_name(ep.serving)) +
                        (!ep.probe.ok       ? " (" + ep.probe.error + ")"
                         : !refusal.empty() ? " (a client refuses it: " + refusal + ")"
                                            : ""));
      }
      for (const auto& p : parts)
        sr.detail += (sr.detail.empty() ? "" : "; ") + p;
      if (sr.state == StepState::CheckFailed && rep.failure.empty())
        rep.failure = stage.name + "/" + t.name + ": " + sr.detail;
      rep.steps.push_back(std::move(sr));
    }
  }
  for (const auto& h : plan.hooks)
    rep.notes.push_back("hook " + std::string(to_string(h.when)) + ": " + join(h.command) +
                        " (not run)");
  if (!plan.pins.empty()) {
    CK_ASSIGN(const auto old_cert, load_previous_cert(plan, inventory, cert.sha256));
    if (old_cert) {
      CK_ASSIGN(const auto new_cert, parse_cert(bundle.cert_pem, "the new certificate"));
      CK_ASSIGN(const auto edits, plan_pin_edits(plan, **old_cert, *new_cert));
      for (const auto& ed : edits) {
        rep.notes.push_back("pins: " + ed.path.string() + ": " +
                            (ed.replaced > 0 ? std::to_string(ed.replaced) + " to replace"
                             : ed.holds_new  ? "holds the new fingerprint already"
                                             : "holds neither fingerprint"));
      }
    }
  }
  return rep;
}

}  // namespace ck::rollout
