#pragma once
// The Verifier of the binary: real TLS handshakes through the probe engine,
// trusting the plan's anchors (plan_scanner).

#include "rollout/verifier.h"

namespace ck::rollout {

class ProbeVerifier final : public Verifier {
 public:
  explicit ProbeVerifier(const Clock& clock) : clock_(clock) {}
  [[nodiscard]] Status ready(const Plan& plan, const probe::ProbeOptions& options) override;
  [[nodiscard]] Result<std::vector<Served>> probe(const Plan& plan,
                                                  const probe::ProbeOptions& options,
                                                  const Target& target) override;

 private:
  const Clock& clock_;
};

}  // namespace ck::rollout
