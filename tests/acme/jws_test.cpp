#include "acme/jws.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "core/base64.h"
#include "core/keygen.h"

namespace ck::acme {
namespace {

TEST(Base64Url, Rfc4648Vectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff", 2));
  EXPECT_EQ(base64url_decode("Zm9vYmFy"), "foobar");
  EXPECT_FALSE(base64url_decode("Zm9v+mFy").has_value());  // standard alphabet is not URL-safe
  EXPECT_FALSE(base64url_decode("Z").has_value());
}

// RFC 7638 §3.1: the example RSA key and its thumbprint.
TEST(AccountKey, Rfc7638ThumbprintOfTheExampleKey) {
  const auto n = *base64url_decode(
      "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
      "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
      "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
      "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
      "kEgU8awapJzKnqDKgw");
  const auto e = *base64url_decode("AQAB");
  BignumPtr bn_n(::BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                             static_cast<int>(n.size()), nullptr));
  BignumPtr bn_e(::BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                             static_cast<int>(e.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, OsslFree<::OSSL_PARAM_BLD_free>> bld(::OSSL_PARAM_BLD_new());
  ASSERT_EQ(::OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()), 1);
  ASSERT_EQ(::OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()), 1);
  std::unique_ptr<OSSL_PARAM, OsslFree<::OSSL_PARAM_free>> params(
      ::OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr ctx(::EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  ASSERT_EQ(::EVP_PKEY_fromdata_init(ctx.get()), 1);
  ASSERT_EQ(::EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()), 1);
  auto key = AccountKey::from(EvpPkeyPtr(raw));
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_STREQ(key->algorithm(), "RS256");
  EXPECT_EQ(key->thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

// ES256 signatures are r||s (64 bytes), not DER: check one verifies after
// converting it back, over exactly "protected.payload".
TEST(AccountKey, Es256SignatureIsRawAndVerifies) {
  auto key = AccountKey::from(*generate_key(KeyType::EcP256));
  ASSERT_TRUE(key);
  EXPECT_STREQ(key->algorithm(), "ES256");
  EXPECT_EQ(key->jwk()["crv"], "P-256");
  const auto jws = key->sign({{"alg", "ES256"}, {"nonce", "n"}, {"url", "https://x/"}}, "{}");
  ASSERT_TRUE(jws);
  const auto sig = *base64url_decode((*jws)["signature"].get<std::string>());
  ASSERT_EQ(sig.size(), 64u);
  std::unique_ptr<ECDSA_SIG, OsslFree<::ECDSA_SIG_free>> ecdsa(::ECDSA_SIG_new());
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ::ECDSA_SIG_set0(ecdsa.get(), ::BN_bin2bn(p, 32, nullptr), ::BN_bin2bn(p + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = ::i2d_ECDSA_SIG(ecdsa.get(), &der);
  const std::string input =
      (*jws)["protected"].get<std::string>() + "." + (*jws)["payload"].get<std::string>();
  EvpMdCtxPtr md(::EVP_MD_CTX_new());
  ASSERT_EQ(::EVP_DigestVerifyInit(md.get(), nullptr, ::EVP_sha256(), nullptr, &key->key()), 1);
  EXPECT_EQ(::EVP_DigestVerify(md.get(), der, static_cast<std::size_t>(der_len),
                               reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  ::OPENSSL_free(der);
  EXPECT_EQ(*base64url_decode((*jws)["payload"].get<std::string>()), "{}");
}

TEST(AccountKey, PostAsGetHasAnEmptyPayload) {
  auto key = AccountKey::from(*generate_key(KeyType::EcP256));
  const auto jws = key->sign({{"alg", "ES256"}}, "");
  ASSERT_TRUE(jws);
  EXPECT_EQ((*jws)["payload"], "");
}

TEST(AccountKey, RefusesOtherCurves) {
  auto key = AccountKey::from(*generate_key(KeyType::EcP384));
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("P-256"), std::string::npos);
  EXPECT_FALSE(AccountKey::from(*generate_key(KeyType::Ed25519)));
}

}  // namespace
}  // namespace ck::acme
