#include "core/keygen.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ck {
namespace {

std::string param(const EVP_PKEY& key, const char* name) {
  char buf[80] = {};
  std::size_t len = 0;
  if (::EVP_PKEY_get_utf8_string_param(&key, name, buf, sizeof buf, &len) != 1)
    return "";
  return std::string(buf, len);
}

std::string public_der(EVP_PKEY& key) {
  unsigned char* der = nullptr;
  const int len = ::i2d_PUBKEY(&key, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(std::max(len, 0)));
  ::OPENSSL_free(der);
  return out;
}

bool pairwise_ok(EVP_PKEY& key) {
  EvpPkeyCtxPtr ctx(::EVP_PKEY_CTX_new_from_pkey(nullptr, &key, nullptr));
  return ctx && ::EVP_PKEY_pairwise_check(ctx.get()) == 1;
}

// EC keys come from a shared template of the curve's parameters: each must
// still be its own, of the right curve, and written with the curve's name
// (RFC 5480 namedCurve), never explicit parameters that clients refuse.
TEST(Keygen, EcKeysNameTheirCurveAndAreEachNew) {
  struct Case {
    KeyType type;
    const char* group;
  };
  for (const Case c : {Case{KeyType::EcP256, "prime256v1"}, Case{KeyType::EcP384, "secp384r1"}}) {
    SCOPED_TRACE(std::string(key_type_name(c.type)));
    auto a = generate_key(c.type);
    auto b = generate_key(c.type);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(param(**a, OSSL_PKEY_PARAM_GROUP_NAME), c.group);
    EXPECT_EQ(param(**a, OSSL_PKEY_PARAM_EC_ENCODING), "named_curve");
    EXPECT_EQ(key_type_of(**a).value_or(KeyType::Ed25519), c.type);
    EXPECT_TRUE(pairwise_ok(**a));
    EXPECT_NE(public_der(**a), public_der(**b));
  }
}

TEST(Keygen, EveryTypeMakesAKeyOfThatType) {
  for (const KeyType t : {KeyType::EcP256, KeyType::EcP384, KeyType::Rsa2048, KeyType::Ed25519}) {
    SCOPED_TRACE(std::string(key_type_name(t)));
    auto key = generate_key(t);
    ASSERT_TRUE(key);
    EXPECT_EQ(
        key_type_of(**key).value_or(t == KeyType::Ed25519 ? KeyType::EcP256 : KeyType::Ed25519), t);
  }
}

// Bulk issuance makes keys on every core at once.
TEST(Keygen, KeysMadeOnManyThreadsAreDistinctAndValid) {
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::vector<std::string>> keys(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&keys, t] {
      for (int i = 0; i < kEach; ++i) {
        auto key = generate_key(KeyType::EcP256);
        if (key && pairwise_ok(**key))
          keys[t].push_back(public_der(**key));
      }
    });
  }
  for (auto& th : threads)
    th.join();
  std::set<std::string> all;
  for (const auto& k : keys)
    all.insert(k.begin(), k.end());
  EXPECT_EQ(all.size(), std::size_t{kThreads * kEach});
}

}  // namespace
}  // namespace ck
