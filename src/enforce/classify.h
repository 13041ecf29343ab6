#pragma once
// Which CRL a server enforces, from what it made of the canaries (pure: the
// probes are done by crl_check.h). A server that refuses CRL #N's revoked
// canary has CRL #N or a newer one; one that accepts it has an older one,
// or does not check revocation at all. The valid canary first shows the
// server checks client certificates and would accept a good one: without
// that, a refusal proves nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/result.h"

namespace ck::enforce {

enum class Enforcement {
  Newest,          // refuses the newest CRL's canary
  Stale,           // refuses an older CRL's canary, accepts the newer ones
  AcceptsRevoked,  // accepts every revoked canary tried
  NoClientCheck,   // did not ask for a client certificate
  RefusesValid,    // did not accept the valid canary: nothing can be concluded
  Unreachable,     // no handshake
  Unknown,         // a canary met no clear answer (closed, no answer)
};
[[nodiscard]] std::string_view enforcement_name(Enforcement e);

/// One revoked canary tried on an endpoint.
struct CanaryTry {
  std::int64_t crl_number = 0;
  probe::ProbeResult result;
};

struct EndpointCrl {
  Enforcement state = Enforcement::Unknown;
  std::optional<std::int64_t> crl_number;  // the newest CRL whose canary it refuses
  std::int64_t stale_by = 0;               // CRLs built since that one
  std::string detail;                      // why, in words
};

/// What the valid canary's probe says on its own: nullopt when the server
/// took it (go on with the revoked ones), else the endpoint's final state.
[[nodiscard]] std::optional<EndpointCrl> classify_valid(const probe::ProbeResult& valid);

/// What one revoked canary says: nullopt when the server accepted it (try
/// the next older one), else the endpoint's final state. `last_crl`: the
/// store's newest CRL number.
[[nodiscard]] std::optional<EndpointCrl> classify_revoked(const CanaryTry& attempt,
                                                          std::int64_t last_crl);

/// The state of an endpoint that accepted every revoked canary tried
/// (`tried`: their CRL numbers, newest first; none: no canary to try).
[[nodiscard]] EndpointCrl accepted_all(const std::vector<std::int64_t>& tried);

}  // namespace ck::enforce
