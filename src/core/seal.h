#pragma once
// Sealing small secrets at rest with the store's passphrase: AES-256-GCM
// under a key derived by PBKDF2-HMAC-SHA256. The derivation is deliberately
// slow, so a SealKey is derived once and seals many blobs (the files a
// rollout replaces, one blob per target); each blob carries its salt,
// iteration count and nonce, so it opens on its own.
//
// Blob: "CKSEAL1" | iterations (u32 BE) | salt (16) | nonce (12) | tag (16) | ciphertext.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/pem.h"
#include "core/random.h"

namespace ck {

class SealKey {
 public:
  static constexpr std::uint32_t kDefaultIterations = 600'000;  // OWASP, PBKDF2-HMAC-SHA256

  /// A key with a fresh random salt.
  [[nodiscard]] static Result<SealKey> derive(const Secret& passphrase, RandomSource& random,
                                              std::uint32_t iterations = kDefaultIterations);

  /// A key from secret key material rather than a passphrase, without a slow
  /// derivation (HKDF-SHA256 over `secret`, with `label` as its info): for
  /// secrets whose protection is that material's, e.g. keys sealed under the
  /// CA's private key. Its blobs open only with `open`, never with `unseal`.
  [[nodiscard]] static Result<SealKey> from_secret(std::string_view secret, std::string_view label);

  /// Opens a blob this key sealed (a key from `from_secret`).
  [[nodiscard]] Result<std::string> open(std::string_view blob, std::string_view context) const;

  /// Encrypts and authenticates `plaintext`; `context` (e.g. "rollout 7 target node1") is
  /// bound as associated data, so a blob cannot be moved to another record unnoticed.
  [[nodiscard]] Result<std::string> seal(std::string_view plaintext, std::string_view context,
                                         RandomSource& random) const;

 private:
  SealKey() = default;
  std::array<std::uint8_t, 16> salt_{};
  std::uint32_t iterations_ = 0;
  std::array<std::uint8_t, 32> key_{};
};

/// Opens a blob; a wrong passphrase, another context or a changed byte is
/// an error ("cannot open ...: wrong passphrase or damaged data").
[[nodiscard]] Result<std::string> unseal(std::string_view blob, std::string_view context,
                                         const Secret& passphrase);

/// True when `data` starts like a sealed blob.
[[nodiscard]] bool is_sealed(std::string_view data);

}  // namespace ck
