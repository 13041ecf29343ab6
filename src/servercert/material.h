#pragma once
// A server certificate with its issuers and key, checked the way a TLS
// server will need it: the key matches, the chain is in order (each
// certificate signed by the next), and the leaf is not expired.

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/ossl.h"

namespace ck::servercert {

struct Material {
  X509Ptr cert;
  std::vector<X509Ptr> chain;  // leaf's issuer first
  EvpPkeyPtr key;
};

/// Puts `m.chain` in issuing order (leaf's issuer first; certificates that
/// belong to no path from the leaf are an error) and checks every link's
/// signature, the key, and that the leaf is valid at `now`. `source` names
/// the input in errors.
[[nodiscard]] Status check_material(Material& m, Seconds now, std::string_view source);

/// The chain as concatenated PEM, leaf's issuer first.
[[nodiscard]] Result<std::string> chain_pem(const Material& m);

}  // namespace ck::servercert
