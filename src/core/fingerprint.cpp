#include "core/fingerprint.h"

#include <cctype>

#include "core/hex.h"

namespace ck {

Result<DigestKind> parse_digest_kind(std::string_view name) {
  if (name == "md5")
    return DigestKind::Md5;
  if (name == "sha1")
    return DigestKind::Sha1;
  if (name == "sha256")
    return DigestKind::Sha256;
  return fail(Code::InvalidArgument,
              "unknown digest '" + std::string(name) + "' (use md5, sha1 or sha256)");
}

std::string short_fp(std::string_view sha256) {
  return sha256.empty() ? "-" : std::string(sha256.substr(0, 12));
}

Result<FingerprintFormat> parse_fingerprint_format(std::string_view name) {
  if (name == "colon")
    return FingerprintFormat::Colon;
  if (name == "hex")
    return FingerprintFormat::Hex;
  if (name == "HEX")
    return FingerprintFormat::HexUpper;
  return fail(Code::InvalidArgument,
              "unknown fingerprint format '" + std::string(name) + "' (use colon, hex or HEX)");
}

std::string_view digest_name(DigestKind kind) {
  switch (kind) {
    case DigestKind::Md5:
      return "md5";
    case DigestKind::Sha1:
      return "sha1";
    case DigestKind::Sha256:
      return "sha256";
  }
  return "sha256";
}

namespace {

// A digest as operators read it: "ab12..", "AB12.." or "AB:12:..".
std::string format_digest(const unsigned char* md, unsigned int len, FingerprintFormat format) {
  const std::string hex = to_hex(std::span<const std::uint8_t>(md, len));
  switch (format) {
    case FingerprintFormat::HexUpper:
      return hex;
    case FingerprintFormat::Hex: {
      std::string lower = hex;
      for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      return lower;
    }
    case FingerprintFormat::Colon: {
      std::string out;
      for (std::size_t i = 0; i < hex.size(); i += 2) {
        if (i != 0) {
          out += ':';
        }
        out.append(hex, i, 2);
      }
      return out;
    }
  }
  return hex;
}

}  // namespace

Result<std::string> sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (::EVP_Digest(bytes.data(), bytes.size(), md, &len, ::EVP_sha256(), nullptr) != 1) {
    return fail(ossl_error("compute SHA-256"));
  }
  return format_digest(md, len, FingerprintFormat::Hex);
}

Result<std::string> fingerprint(const X509& cert, DigestKind kind, FingerprintFormat format) {
  // MD5 is only used to match what legacy monitors pin, never for security;
  // fetch it explicitly so a FIPS configuration fails loudly instead.
  EVP_MD* md = ::EVP_MD_fetch(nullptr, std::string(digest_name(kind)).c_str(), nullptr);
  if (md == nullptr) {
    return fail(ossl_error("digest " + std::string(digest_name(kind)) + " is not available"));
  }
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const int ok = ::X509_digest(&cert, md, buf, &len);
  ::EVP_MD_free(md);
  if (ok != 1) {
    return fail(ossl_error("compute certificate fingerprint"));
  }
  return format_digest(buf, len, format);
}

}  // namespace ck
