#pragma once
// JSON Web Signatures as ACME uses them (RFC 8555 §6.2, RFC 7515): flattened
// JSON serialization, ES256 for P-256 account keys and RS256 for RSA ones,
// and the JWK thumbprint (RFC 7638) that key authorizations are built from.

#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/ossl.h"

namespace ck::acme {

/// An account key ACME can sign with: EC P-256 (ES256) or RSA ≥ 2048 (RS256).
class AccountKey {
 public:
  /// Checks the key is one of the supported kinds.
  [[nodiscard]] static Result<AccountKey> from(EvpPkeyPtr key);

  [[nodiscard]] const char* algorithm() const { return alg_; }
  /// The public key as a JWK, members in lexicographic order.
  [[nodiscard]] const nlohmann::json& jwk() const { return jwk_; }
  /// base64url(SHA-256(canonical JWK)).
  [[nodiscard]] const std::string& thumbprint() const { return thumbprint_; }
  [[nodiscard]] EVP_PKEY& key() const { return *key_; }

  /// `{"protected","payload","signature"}` for the header and payload given;
  /// an empty payload is a POST-as-GET.
  [[nodiscard]] Result<nlohmann::json> sign(const nlohmann::json& protected_header,
                                            const std::string& payload) const;

 private:
  EvpPkeyPtr key_;
  const char* alg_ = "";
  nlohmann::json jwk_;
  std::string thumbprint_;
};

}  // namespace ck::acme
