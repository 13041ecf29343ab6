#pragma once
// Reading and writing certificates, keys, CRLs and CSRs as PEM or DER. Every
// error names the source (usually a file path) and says what is wrong.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/ossl.h"

namespace ck {

/// A passphrase held only in memory and wiped on destruction.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
  Secret& operator=(Secret&& other) noexcept;
  ~Secret() { wipe(); }

  [[nodiscard]] const std::string& reveal() const { return value_; }
  [[nodiscard]] bool empty() const { return value_.empty(); }

 private:
  void wipe() noexcept;
  std::string value_;
};

/// Parses one certificate, PEM or DER (detected from the content).
[[nodiscard]] Result<X509Ptr> parse_cert(std::string_view data, std::string_view source);
[[nodiscard]] Result<X509Ptr> load_cert(const std::filesystem::path& path);

/// Every PEM certificate in `text`, in order (a chain, a fullchain file);
/// none is an empty list. A truncated block is an error naming `source`.
[[nodiscard]] Result<std::vector<X509Ptr>> parse_cert_chain(std::string_view text,
                                                            std::string_view source);

[[nodiscard]] Result<X509ReqPtr> parse_csr(std::string_view data, std::string_view source);
[[nodiscard]] Result<X509ReqPtr> load_csr(const std::filesystem::path& path);

[[nodiscard]] Result<X509CrlPtr> parse_crl(std::string_view data, std::string_view source);

/// Parses a private key (PEM, plain or encrypted PKCS#8/traditional, or DER).
/// An encrypted key without a passphrase, or with the wrong one, is an error
/// saying so; OpenSSL is never allowed to prompt on the terminal.
[[nodiscard]] Result<EvpPkeyPtr> parse_private_key(std::string_view data, std::string_view source,
                                                   const Secret* passphrase);
[[nodiscard]] Result<EvpPkeyPtr> load_private_key(const std::filesystem::path& path,
                                                  const Secret* passphrase);

[[nodiscard]] Result<std::string> cert_to_pem(const X509& cert);
[[nodiscard]] Result<std::string> cert_to_der(const X509& cert);
[[nodiscard]] Result<X509Ptr> cert_from_der(std::string_view der);

/// PBKDF2-HMAC-SHA256 iterations for keys encrypted at rest (the CA key,
/// server certificate keys, ACME account keys): OWASP's figure for
/// PBKDF2-HMAC-SHA256. OpenSSL's default, 2,048, is cheap to guess against
/// for a passphrase a person chose.
inline constexpr std::uint32_t kKeyPbkdf2Iterations = 600'000;

/// PKCS#8 PEM; encrypted with PBES2 (PBKDF2-HMAC-SHA256, kKeyPbkdf2Iterations,
/// 16-byte salt; AES-256-CBC) when a passphrase is given.
[[nodiscard]] Result<std::string> private_key_to_pem(const EVP_PKEY& key, const Secret* passphrase);

/// The PBKDF2 iteration count of an encrypted PKCS#8 key in PEM; 0 for a key
/// encrypted without PBKDF2 (PBES1, traditional "Proc-Type" PEM); nullopt when
/// `pem` is not an encrypted key.
[[nodiscard]] std::optional<std::uint64_t> key_pbkdf2_iterations(std::string_view pem);

/// True when `pem` is an encrypted key protected by fewer than
/// kKeyPbkdf2Iterations iterations: it is re-encrypted on its next unlock.
[[nodiscard]] bool key_needs_reencryption(std::string_view pem);

/// True when the PEM text is an encrypted private key.
[[nodiscard]] bool is_encrypted_key_pem(std::string_view pem);

/// DER → PEM with the given label ("X509 CRL").
[[nodiscard]] std::string der_to_pem(std::string_view der, std::string_view label);

}  // namespace ck
