#pragma once
// CRLs (RFC 5280 §5) encoded and decoded as a stream of DER, without building
// one OpenSSL object per entry: a million revoked certificates cost one
// buffer, not a million mallocs.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/ossl.h"

namespace ck::ca {

struct CrlSpec {
  std::int64_t number = 0;
  Seconds this_update{};
  Seconds next_update{};
};

class CrlEncoder {
 public:
  explicit CrlEncoder(std::size_t expected_entries = 0);

  /// Adds one revoked certificate. Reason 0 (unspecified) is written by
  /// leaving the reasonCode extension out (RFC 5280 §5.3.1).
  void add(std::string_view serial, Seconds revoked_at, int reason);
  [[nodiscard]] std::size_t count() const { return count_; }

  /// A v2 CRL with AKI (key identifier) and CRL number, signed by `key` (in
  /// software or in a token). Not verified here: `crl build` reads the DER
  /// back, signature checked against the CA certificate, before it is
  /// written anywhere.
  [[nodiscard]] Result<std::string> finish(const X509& issuer, EVP_PKEY& key,
                                           const CrlSpec& spec) &&;

 private:
  /// The crlEntryExtensions SEQUENCE holding one reasonCode, built once per code.
  const std::string& reason_extensions(std::uint8_t reason);

  std::string entries_;
  std::size_t count_ = 0;
  Seconds last_time_{};
  std::string last_time_der_;
  std::array<std::string, 256> reason_ext_;
};

struct CrlEntryView {
  std::string_view serial;  // magnitude bytes (no sign octet)
  Seconds revoked_at{};
  int reason = 0;
};

struct ParsedCrl {
  std::optional<std::int64_t> number;
  Seconds this_update{};
  std::optional<Seconds> next_update;
  std::vector<CrlEntryView> entries;  // views into the DER passed to parse_crl_der
};

/// The DER of a CRL file: inside its PEM "X509 CRL" block, or the bytes as
/// they are when they are no PEM; nullopt for PEM of anything else.
[[nodiscard]] std::optional<std::string> crl_der_of(std::string_view bytes);

/// Parses a DER CRL strictly. With `issuer_key`, also verifies its signature.
[[nodiscard]] Result<ParsedCrl> parse_crl_der(std::string_view der, EVP_PKEY* issuer_key);

}  // namespace ck::ca
