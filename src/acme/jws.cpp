#include "acme/jws.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "core/base64.h"

namespace ck::acme {
namespace {

Result<std::string> bn_param(const EVP_PKEY& key, const char* name, int pad) {
  BIGNUM* raw = nullptr;
  if (::EVP_PKEY_get_bn_param(&key, name, &raw) != 1)
    return fail(ossl_error(std::string("reading the account key's ") + name));
  BignumPtr bn(raw);
  const int size = pad > 0 ? pad : (::BN_num_bits(bn.get()) + 7) / 8;
  std::string out(static_cast<std::size_t>(size), '\0');
  if (::BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size) != size)
    return fail(ossl_error("encoding the account key"));
  return out;
}

Result<std::string> sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (::EVP_Digest(data.data(), data.size(), md, &len, ::EVP_sha256(), nullptr) != 1)
    return fail(ossl_error("SHA-256"));
  return std::string(reinterpret_cast<const char*>(md), len);
}

// ECDSA signatures come from OpenSSL as DER; JWS wants r || s, each padded to
// the curve size (RFC 7518 §3.4).
Result<std::string> der_to_raw_ecdsa(std::string_view der, int half) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, OsslFree<::ECDSA_SIG_free>> sig(
      ::d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig)
    return fail(ossl_error("decoding an ECDSA signature"));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ::ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(static_cast<std::size_t>(half) * 2, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  if (::BN_bn2binpad(r, buf, half) != half || ::BN_bn2binpad(s, buf + half, half) != half)
    return fail(Code::Crypto, "ECDSA signature component too large");
  return out;
}

}  // namespace

Result<AccountKey> AccountKey::from(EvpPkeyPtr key) {
  AccountKey out;
  if (::EVP_PKEY_is_a(key.get(), "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (::EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &len) != 1 ||
        std::string_view(group) != "prime256v1") {
      return fail(Code::InvalidArgument,
                  "ACME account keys must be EC P-256 or RSA (this EC key is on curve '" +
                      std::string(group) + "')");
    }
    out.alg_ = "ES256";
    CK_ASSIGN(const auto x, bn_param(*key, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    CK_ASSIGN(const auto y, bn_param(*key, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
    out.jwk_ = {
        {"crv", "P-256"}, {"kty", "EC"}, {"x", base64url_encode(x)}, {"y", base64url_encode(y)}};
  } else if (::EVP_PKEY_is_a(key.get(), "RSA")) {
    if (::EVP_PKEY_get_bits(key.get()) < 2048)
      return fail(Code::InvalidArgument, "ACME account RSA keys must have at least 2048 bits");
    out.alg_ = "RS256";
    CK_ASSIGN(const auto n, bn_param(*key, OSSL_PKEY_PARAM_RSA_N, 0));
    CK_ASSIGN(const auto e, bn_param(*key, OSSL_PKEY_PARAM_RSA_E, 0));
    out.jwk_ = {{"e", base64url_encode(e)}, {"kty", "RSA"}, {"n", base64url_encode(n)}};
  } else {
    return fail(Code::InvalidArgument, "ACME account keys must be EC P-256 or RSA");
  }
  // nlohmann's default object is a std::map: dump() writes the members sorted
  // and without whitespace, which is exactly RFC 7638's canonical form.
  CK_ASSIGN(const auto digest, sha256(out.jwk_.dump()));
  out.thumbprint_ = base64url_encode(digest);
  out.key_ = std::move(key);
  return out;
}

Result<nlohmann::json> AccountKey::sign(const nlohmann::json& protected_header,
                                        const std::string& payload) const {
  const std::string prot = base64url_encode(protected_header.dump());
  const std::string body = payload.empty() ? std::string() : base64url_encode(payload);
  const std::string input = prot + "." + body;
  EvpMdCtxPtr ctx(::EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || ::EVP_DigestSignInit(ctx.get(), nullptr, ::EVP_sha256(), nullptr, key_.get()) != 1 ||
      ::EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return fail(ossl_error("signing an ACME request"));
  }
  std::string sig(len, '\0');
  if (::EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return fail(ossl_error("signing an ACME request"));
  }
  sig.resize(len);
  if (std::string_view(alg_) == "ES256") {
    CK_ASSIGN(sig, der_to_raw_ecdsa(sig, 32));
  }
  return nlohmann::json{
      {"protected", prot}, {"payload", body}, {"signature", base64url_encode(sig)}};
}

}  // namespace ck::acme
