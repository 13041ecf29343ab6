#pragma once
// Certificate fingerprints as monitoring tools pin them (monit certmd5 wants
// md5 in lowercase hex; browsers show SHA-256 with colons).

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/ossl.h"

namespace ck {

enum class DigestKind { Md5, Sha1, Sha256 };
enum class FingerprintFormat {
  Colon,  // "AB:CD:..." (openssl x509 -fingerprint)
  Hex,    // "abcd..."   (monit certmd5)
  HexUpper,
};

[[nodiscard]] Result<DigestKind> parse_digest_kind(std::string_view name);
[[nodiscard]] Result<FingerprintFormat> parse_fingerprint_format(std::string_view name);
[[nodiscard]] std::string_view digest_name(DigestKind kind);

/// SHA-256 of any bytes (a written CRL file, say), lower-case hex.
[[nodiscard]] Result<std::string> sha256_hex(std::string_view bytes);

/// The first 12 hex digits of a SHA-256 fingerprint, as progress lines and
/// tables show it; "-" for none.
[[nodiscard]] std::string short_fp(std::string_view sha256);

/// The digest of the certificate's DER encoding, rendered in `format`.
[[nodiscard]] Result<std::string> fingerprint(const X509& cert, DigestKind kind,
                                              FingerprintFormat format);

}  // namespace ck
