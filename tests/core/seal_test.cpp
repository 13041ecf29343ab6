#include "core/seal.h"

#include <gtest/gtest.h>

namespace ck {
namespace {

// Few iterations keep the tests fast; the format and checks are the same.
constexpr std::uint32_t kFast = 1000;

TEST(Seal, RoundTripsAndBindsTheContext) {
  SystemRandom random;
  const Secret pass("correct horse battery staple");
  const auto key = SealKey::derive(pass, random, kFast);
  ASSERT_TRUE(key);
  const std::string secret = "-----BEGIN PRIVATE KEY-----\nMIG...\n";
  const auto blob = key->seal(secret, "rollout 1 target irc", random);
  ASSERT_TRUE(blob);
  EXPECT_TRUE(is_sealed(*blob));
  EXPECT_EQ(blob->find("PRIVATE KEY"), std::string::npos);
  const auto opened = unseal(*blob, "rollout 1 target irc", pass);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, secret);
  // Another record's context, another passphrase, a flipped byte: refused.
  EXPECT_FALSE(unseal(*blob, "rollout 1 target node1", pass));
  EXPECT_FALSE(unseal(*blob, "rollout 1 target irc", Secret("wrong")));
  std::string damaged = *blob;
  damaged.back() ^= 1;
  const auto bad = unseal(damaged, "rollout 1 target irc", pass);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("wrong passphrase or damaged data"), std::string::npos);
}

TEST(Seal, EachBlobHasItsOwnNonce) {
  SystemRandom random;
  const Secret pass("p");
  const auto key = SealKey::derive(pass, random, kFast);
  EXPECT_NE(*key->seal("same", "c", random), *key->seal("same", "c", random));
  EXPECT_EQ(*unseal(*key->seal("", "c", random), "c", pass), "");
}

TEST(Seal, RefusesTruncatedAndForeignData) {
  const Secret pass("p");
  EXPECT_FALSE(unseal("CKSEAL1", "c", pass));
  EXPECT_FALSE(unseal("plain text that is long enough to pass the size check....", "c", pass));
  SystemRandom random;
  EXPECT_FALSE(SealKey::derive(Secret(""), random, kFast));
}

}  // namespace
}  // namespace ck
