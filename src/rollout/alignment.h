#pragma once
// Which certificate every endpoint of a plan serves, by real handshakes
// through the probe engine: the plan's (new), the one it replaces (old),
// another one, or none (the probe failed); and whether a client accepts it.
// An endpoint is aligned only when it serves the plan's certificate, the
// chain it sends verifies against the plan's trust anchors, and the
// certificate names the endpoint's SNI: the leaf alone is not enough, a
// client without the intermediate refuses it.

#include <memory>
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

/// Why a client would refuse what a probe received ("" when it accepts it):
/// "chain: <OpenSSL's reason>" unless `verify_chain` is false, and/or "name:
/// the certificate is not for <SNI>". An endpoint without SNI (an IP address)
/// has no name to check. A failed probe is not judged here ("").
[[nodiscard]] std::string client_refusal(const probe::ProbeResult& r, bool verify_chain);

struct EndpointState {
  std::string stage;
  std::string target;
  probe::ProbeResult probe;
  Serving serving = Serving::Failed;
  bool verify_chain = true;  // the target's verify_chain

  /// "ok", "skipped" (verify_chain = false) or OpenSSL's reason; "" when the
  /// probe failed.
  [[nodiscard]] std::string chain() const;
  /// "ok", "mismatch", or "unchecked" (no SNI); "" when the probe failed.
  [[nodiscard]] std::string name() const;
  /// Serves the plan's certificate, and a client accepts it.
  [[nodiscard]] bool aligned() const;
};

struct Alignment {
  PlanCertificate certificate;
  std::vector<EndpointState> endpoints;  // in plan order
  [[nodiscard]] std::size_t aligned() const;
  /// Endpoints serving the plan's certificate that a client refuses.
  [[nodiscard]] std::size_t refused() const;
};

/// A scanner for a plan's endpoints. Trust anchors: `options.ca_file`
/// (--ca-file) when set, else the plan's [certificate] ca_file, else the
/// system store. A CA file that cannot be loaded is an error here, naming the
/// plan line when the plan gave it: callers create one before changing
/// anything.
[[nodiscard]] Result<std::unique_ptr<probe::Scanner>> plan_scanner(const Plan& plan,
                                                                   probe::ProbeOptions options,
                                                                   const Clock& clock);

/// Probes every endpoint of the plan (all at once, up to the options'
/// concurrency) and classifies what each serves. `stage`, when given, limits
/// it to one stage; a stage the plan does not have is an error (check_stage),
/// before any handshake.
[[nodiscard]] Result<Alignment> check_alignment(const Plan& plan, const PlanCertificate& cert,
                                                const probe::ProbeOptions& options,
                                                const Clock& clock, const std::string& stage = "");

}  // namespace ck::rollout
