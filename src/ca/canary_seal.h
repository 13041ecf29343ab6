#pragma once
// What CRL canary keys are sealed under (canary.h says why they are kept).
//
// A CA key kept in the store: a key derived from its private key (HKDF over
// its DER), so opening a canary takes what signing with the CA takes. A CA
// key in a PKCS#11 token cannot be read, so each canary key is sealed to the
// CA's public key instead, and opening it takes one operation in the token:
// ECDH with a fresh ephemeral key for an EC CA key, a fresh 32-byte secret
// wrapped with RSA-OAEP (SHA-256) for an RSA one. Sealing needs only the
// CA certificate; nothing secret about the token reaches the store.
//
// Envelope blob: "CKENV1" | length (u16 BE) | the ephemeral public key (DER
// SubjectPublicKeyInfo) or the OAEP ciphertext | a SealKey blob under
// HKDF(shared secret).

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/ossl.h"
#include "core/random.h"
#include "core/seal.h"

namespace ck::ca {

class CanarySeal {
 public:
  /// For a CA key held in the store (its DER is the sealing secret).
  [[nodiscard]] static Result<CanarySeal> from_stored_key(const EVP_PKEY& ca_key);
  /// For a CA key in a token: seals to `ca_cert`'s public key (read from
  /// its encoding, never the engine's object), opens through `token_key`,
  /// which must outlive the seal.
  [[nodiscard]] static Result<CanarySeal> to_token_key(EVP_PKEY& token_key, const X509& ca_cert);

  /// Seals `plaintext`, bound to `context`.
  [[nodiscard]] Result<std::string> seal(std::string_view plaintext, std::string_view context,
                                         RandomSource& random) const;
  /// Opens a blob seal() made.
  [[nodiscard]] Result<std::string> open(std::string_view blob, std::string_view context) const;

 private:
  CanarySeal() = default;
  std::optional<SealKey> derived_;
  EVP_PKEY* token_key_ = nullptr;
  EvpPkeyPtr public_key_;  // the CA certificate's
};

}  // namespace ck::ca
