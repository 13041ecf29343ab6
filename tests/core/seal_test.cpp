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

TEST(Seal, AKeyFromSecretMaterialOpensItsOwnBlobsOnly) {
  SystemRandom random;
  const auto key = SealKey::from_secret("the CA's private key, DER", "certkeeper canary key");
  ASSERT_TRUE(key);
  const auto blob = key->seal("canary key", "canary 01AB", random);
  ASSERT_TRUE(blob);
  const auto opened = key->open(*blob, "canary 01AB");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, "canary key");
  EXPECT_FALSE(key->open(*blob, "canary 01AC")) << "another record's context";
  const auto other = SealKey::from_secret("another CA's key", "certkeeper canary key");
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->open(*blob, "canary 01AB")) << "another CA";
  const auto relabelled = SealKey::from_secret("the CA's private key, DER", "another use");
  ASSERT_TRUE(relabelled);
  EXPECT_FALSE(relabelled->open(*blob, "canary 01AB")) << "the label separates uses";
  EXPECT_FALSE(unseal(*blob, "canary 01AB", Secret("the CA's private key, DER")))
      << "no passphrase opens it";
  const auto by_pass = SealKey::derive(Secret("pass"), random, kFast);
  ASSERT_TRUE(by_pass);
  const auto pass_blob = by_pass->seal("x", "c", random);
  ASSERT_TRUE(pass_blob);
  EXPECT_FALSE(key->open(*pass_blob, "c")) << "a passphrase blob is not this key's";
  EXPECT_FALSE(SealKey::from_secret("", "label"));
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
