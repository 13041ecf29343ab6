#include "rollout/probe_verifier.h"

namespace ck::rollout {

Status ProbeVerifier::ready(const Plan& plan, const probe::ProbeOptions& options) {
  CK_TRY(plan_scanner(plan, options, clock_));
  return {};
}

Result<std::vector<Served>> ProbeVerifier::probe(const Plan& plan,
                                                 const probe::ProbeOptions& options,
                                                 const Target& target) {
  // A scanner per try: stage threads verify at once, each with its own.
  CK_ASSIGN(auto scanner, plan_scanner(plan, options, clock_));
  std::vector<Served> out(target.endpoints.size());
  CK_TRY(scanner->run(target.endpoints, [&](std::size_t i, probe::ProbeResult&& res) {
    out[i] = Served{res.ok, res.error, res.sha256, client_refusal(res, target.verify_chain)};
  }));
  return out;
}

}  // namespace ck::rollout
