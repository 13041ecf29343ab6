#pragma once
// Which certificate every endpoint of a plan serves, by real handshakes
// through the probe engine: the plan's (new), the one it replaces (old),
// another one, or none (the probe failed).

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "probe/result.h"
#include "probe/scanner.h"
#include "rollout/plan.h"
#include "servercert/inventory.h"

namespace ck::rollout {

/// The fingerprints a plan's certificate section stands for.
struct PlanCertificate {
  std::string sha256;           // lower-case hex of the certificate rolled out
  std::string md5;              // lower-case hex, for {{fingerprint_md5}} in hooks
  std::string previous_sha256;  // what it replaces, when known ("" otherwise)
  Seconds not_after{};
  std::string describe;  // "stored 'wildcard' version 3", "file /x/cert.pem"
};

/// Resolves [certificate]: the stored name's newest version (and the one
/// before it), or cert_file (and previous_cert_file). `inventory` may be null
/// only for a plan that names files.
[[nodiscard]] Result<PlanCertificate> resolve_certificate(const Plan& plan,
                                                          servercert::Inventory* inventory);

enum class Serving { New, Old, Other, Failed };
[[nodiscard]] std::string_view serving_name(Serving s);

struct EndpointState {
  std::string stage;
  std::string target;
  probe::ProbeResult probe;
  Serving serving = Serving::Failed;
};

struct Alignment {
  PlanCertificate certificate;
  std::vector<EndpointState> endpoints;  // in plan order
  [[nodiscard]] std::size_t aligned() const;
};

/// Probes every endpoint of the plan (all at once, up to the options'
/// concurrency) and classifies what each serves. `stage`, when given, limits
/// it to one stage.
[[nodiscard]] Result<Alignment> check_alignment(const Plan& plan, const PlanCertificate& cert,
                                                const probe::ProbeOptions& options,
                                                const Clock& clock, const std::string& stage = "");

}  // namespace ck::rollout
