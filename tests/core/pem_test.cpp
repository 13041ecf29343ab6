#include "core/pem.h"

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "core/keygen.h"
#include "fakes/temp_dir.h"

namespace ck {
namespace {

TEST(Pem, MalformedInputNamesTheSource) {
  struct Case {
    const char* name;
    std::string data;
  };
  const Case cases[] = {
      {"empty", ""},
      {"garbage", "hello world"},
      {"truncated pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
      {"truncated der", std::string("\x30\x82\x01\x00\x30", 5)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto cert = parse_cert(c.data, "in.pem");
    ASSERT_FALSE(cert);
    EXPECT_EQ(cert.error().code, Code::InvalidArgument);
    EXPECT_NE(cert.error().message.find("'in.pem'"), std::string::npos);
  }
}

TEST(Pem, TrailingBytesAfterDerAreRejected) {
  auto der = read_file(CK_TEST_DATA "/fixture.der");
  ASSERT_TRUE(der);
  EXPECT_TRUE(parse_cert(*der, "x"));
  EXPECT_FALSE(parse_cert(*der + "junk", "x"));
}

TEST(Pem, EncryptedKeyNeedsTheRightPassphrase) {
  const std::filesystem::path path = CK_TEST_DATA "/fixture-encrypted.key";
  auto none = load_private_key(path, nullptr);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("encrypted"), std::string::npos);
  const Secret wrong("nope");
  auto bad = load_private_key(path, &wrong);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("wrong passphrase"), std::string::npos);
  const Secret right("fixture-pass");
  auto good = load_private_key(path, &right);
  ASSERT_TRUE(good) << good.error().message;
  auto cert = load_cert(CK_TEST_DATA "/fixture.pem");
  ASSERT_TRUE(cert);
  EXPECT_EQ(::X509_check_private_key(cert->get(), good->get()), 1);
}

TEST(Pem, EncryptedPkcs8RoundTrip) {
  auto key = generate_key(KeyType::Ed25519);
  ASSERT_TRUE(key);
  const Secret pass("correct horse");
  auto pem = private_key_to_pem(**key, &pass);
  ASSERT_TRUE(pem);
  EXPECT_TRUE(is_encrypted_key_pem(*pem));
  auto back = parse_private_key(*pem, "k", &pass);
  ASSERT_TRUE(back);
  EXPECT_EQ(::EVP_PKEY_eq(key->get(), back->get()), 1);
}

// A passphrase a person chose is guessed against offline: the stored key
// costs 600,000 PBKDF2-HMAC-SHA256 rounds per guess, not OpenSSL's 2,048.
TEST(Pem, EncryptedKeysUseOwaspIterationsAndOldOnesAreFlagged) {
  auto key = generate_key(KeyType::EcP256);
  ASSERT_TRUE(key);
  const Secret pass("correct horse");
  auto pem = private_key_to_pem(**key, &pass);
  ASSERT_TRUE(pem);
  EXPECT_EQ(key_pbkdf2_iterations(*pem), std::optional<std::uint64_t>(600'000));
  EXPECT_FALSE(key_needs_reencryption(*pem));
  EXPECT_TRUE(parse_private_key(*pem, "k", &pass));

  // `openssl pkcs8 -topk8 -v2 aes-256-cbc`: OpenSSL's default 2,048.
  auto old = read_file(CK_TEST_DATA "/fixture-encrypted.key");
  ASSERT_TRUE(old);
  EXPECT_EQ(key_pbkdf2_iterations(*old), std::optional<std::uint64_t>(2048));
  EXPECT_TRUE(key_needs_reencryption(*old));

  auto plain = private_key_to_pem(**key, nullptr);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(key_pbkdf2_iterations(*plain).has_value());
  EXPECT_FALSE(key_needs_reencryption(*plain));
}

TEST(Keygen, EveryKeyTypeRoundTripsItsName) {
  for (const char* name : {"ec-p256", "ec-p384", "rsa-2048", "ed25519"}) {
    SCOPED_TRACE(name);
    auto type = parse_key_type(name);
    ASSERT_TRUE(type);
    auto key = generate_key(*type);
    ASSERT_TRUE(key) << key.error().message;
    auto back = key_type_of(**key);
    ASSERT_TRUE(back);
    EXPECT_EQ(key_type_name(*back), name);
  }
  EXPECT_FALSE(parse_key_type("dsa-1024"));
}

}  // namespace
}  // namespace ck
