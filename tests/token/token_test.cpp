// The token module against a real softhsm2 token made here (a fresh token
// folder per test process): keys generated in it sign and never leave it, a
// wrong PIN fails once and is remembered, and CRL canary keys sealed to a
// token key open only through it.
#include "token/token.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ca/canary_seal.h"
#include "core/keygen.h"

namespace ck::token {
namespace {

const std::filesystem::path kModule = "/usr/lib/softhsm/libsofthsm2.so";

// One token folder for the process: softhsm2 reads SOFTHSM2_CONF once, when
// the module is first initialised.
class SoftHsm : public ::testing::Environment {
 public:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kModule))
        << "no softhsm2: apt-get install softhsm2 opensc libengine-pkcs11-openssl";
    char tmpl[] = "/tmp/ck-token-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directory(dir_ / "tokens");
    std::ofstream(dir_ / "softhsm2.conf") << "directories.tokendir = " << (dir_ / "tokens").string()
                                          << "\nobjectstore.backend = file\nlog.level = ERROR\n";
    ::setenv("SOFTHSM2_CONF", (dir_ / "softhsm2.conf").c_str(), 1);
    // t3: only ever logged into with a wrong PIN (login state is the
    // process's, so a token logged into by another test would let it pass).
    for (const char* label : {"t1", "t2", "t3"}) {
      const std::string cmd = std::string("softhsm2-util --init-token --free --label ") + label +
                              " --pin 1234 --so-pin 5678 > /dev/null";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  std::filesystem::path dir_;
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new SoftHsm);

Token open_token(const char* pin = "1234") {
  return Token(TokenConfig{kModule, Secret(pin)});
}

// Signs `msg` with `key` and verifies with `pub`.
bool signs_for(EVP_PKEY& key, EVP_PKEY& pub) {
  const std::string msg = "certkeeper token test";
  EvpMdCtxPtr s(::EVP_MD_CTX_new());
  EvpMdCtxPtr v(::EVP_MD_CTX_new());
  std::size_t len = 0;
  const auto* m = reinterpret_cast<const unsigned char*>(msg.data());
  if (::EVP_DigestSignInit(s.get(), nullptr, ::EVP_sha256(), nullptr, &key) != 1 ||
      ::EVP_DigestSign(s.get(), nullptr, &len, m, msg.size()) != 1)
    return false;
  std::string sig(len, '\0');
  auto* p = reinterpret_cast<unsigned char*>(sig.data());
  return ::EVP_DigestSign(s.get(), p, &len, m, msg.size()) == 1 &&
         ::EVP_DigestVerifyInit(v.get(), nullptr, ::EVP_sha256(), nullptr, &pub) == 1 &&
         ::EVP_DigestVerify(v.get(), p, len, m, msg.size()) == 1;
}

// The public half alone, as a CA certificate would carry it.
EvpPkeyPtr public_half(EVP_PKEY& key) {
  unsigned char* der = nullptr;
  const int len = ::i2d_PUBKEY(&key, &der);
  const unsigned char* p = der;
  EvpPkeyPtr pub(::d2i_PUBKEY(nullptr, &p, len));
  ::OPENSSL_free(der);
  return pub;
}

// A self-signed certificate for `key` (what canary sealing reads the public key from).
X509Ptr cert_for(EVP_PKEY& key) {
  X509Ptr x(::X509_new());
  ::X509_set_version(x.get(), X509_VERSION_3);
  ::ASN1_INTEGER_set(::X509_get_serialNumber(x.get()), 1);
  X509_NAME* name = ::X509_get_subject_name(x.get());
  ::X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("t"), -1, -1, 0);
  ::X509_set_issuer_name(x.get(), name);
  ::X509_gmtime_adj(::X509_getm_notBefore(x.get()), 0);
  ::X509_gmtime_adj(::X509_getm_notAfter(x.get()), 3600);
  ::X509_set_pubkey(x.get(), &key);
  EXPECT_GT(::X509_sign(x.get(), &key, ::EVP_sha256()), 0);
  return x;
}

TEST(Token, GeneratedEcKeySignsAndStaysInTheToken) {
  Token token = open_token();
  SystemRandom random;
  KeyUri uri{"t1", "ec-key", ""};
  auto key = token.generate(uri, KeyType::EcP256, random);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(uri.id.size(), 16u) << "a random CKA_ID is chosen and written into the URI";
  auto pub = public_half(**key);
  ASSERT_TRUE(pub);
  EXPECT_TRUE(signs_for(**key, *pub));
  // No private scalar comes out of the token: whatever OpenSSL encodes of
  // the engine's key object does not sign for its public key.
  unsigned char* der = nullptr;
  const int der_len = ::i2d_PrivateKey(key->get(), &der);
  if (der_len > 0) {
    const unsigned char* p = der;
    EvpPkeyPtr copy(::d2i_AutoPrivateKey(nullptr, &p, der_len));
    EXPECT_TRUE(!copy || !signs_for(*copy, *pub)) << "the private key left the token";
  }
  ::OPENSSL_free(der);

  // The same key by its URI, through a second Token (another command).
  Token again = open_token();
  auto loaded = again.private_key(uri);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(signs_for(**loaded, *pub));

  // A second key of that label is refused.
  KeyUri same{"t1", "ec-key", ""};
  auto dup = token.generate(same, KeyType::EcP256, random);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Code::AlreadyExists);
}

TEST(Token, ADiscardedKeyIsGone) {
  // What `ca init --key-uri` does when it fails after making the key.
  Token token = open_token();
  SystemRandom random;
  KeyUri uri{"t2", "discarded", ""};
  ASSERT_TRUE(token.generate(uri, KeyType::EcP256, random));
  token.discard_generated();
  Token again = open_token();
  auto key = again.private_key(uri);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Code::NotFound) << key.error().message;
  KeyUri reuse{"t2", "discarded", ""};
  EXPECT_TRUE(again.generate(reuse, KeyType::EcP256, random)) << "the label is free again";
}

TEST(Token, SoftwareKeysStillWorkBesideTheEngine) {
  // libp11#456: the engine configured in openssl.cnf broke software EC
  // operations in the same process. Loaded from code it must not.
  Token token = open_token();
  SystemRandom random;
  KeyUri uri{"t2", "beside", ""};
  auto key = token.generate(uri, KeyType::EcP256, random);
  ASSERT_TRUE(key) << key.error().message;
  for (const KeyType type : {KeyType::EcP256, KeyType::Rsa2048, KeyType::Ed25519}) {
    auto soft = generate_key(type);
    ASSERT_TRUE(soft) << key_type_name(type);
    auto pub = public_half(**soft);
    EXPECT_TRUE(type == KeyType::Ed25519 || signs_for(**soft, *pub)) << key_type_name(type);
  }
}

TEST(Token, WrongPinFailsOnceAndIsRemembered) {
  Token token = open_token("9999");
  KeyUri uri{"t3", "whatever", ""};
  auto first = token.private_key(uri);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, Code::PermissionDenied);
  EXPECT_NE(first.error().message.find("wrong PIN"), std::string::npos);
  EXPECT_EQ(first.error().message.find("9999"), std::string::npos);
  SystemRandom random;
  auto second = token.generate(uri, KeyType::EcP256, random);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message, first.error().message);
}

TEST(Token, MissingTokenOrKeyIsNamed) {
  Token token = open_token();
  auto no_token = token.private_key(KeyUri{"absent", "k", ""});
  ASSERT_FALSE(no_token);
  EXPECT_EQ(no_token.error().code, Code::NotFound);
  EXPECT_NE(no_token.error().message.find("no token labelled 'absent'"), std::string::npos);
  Token other = open_token();
  auto no_key = other.private_key(KeyUri{"t2", "nothing-here", ""});
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().code, Code::NotFound) << no_key.error().message;
}

TEST(Token, UnconfiguredTokenSaysWhatToSet) {
  Token none(TokenConfig{});
  auto key = none.private_key(KeyUri{"t1", "k", ""});
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("[pkcs11] module"), std::string::npos);
  Token no_pin(TokenConfig{kModule, std::nullopt});
  auto key2 = no_pin.private_key(KeyUri{"t1", "k", ""});
  ASSERT_FALSE(key2);
  EXPECT_NE(key2.error().message.find("CERTKEEPER_PKCS11_PIN"), std::string::npos);
}

class CanarySealInToken : public ::testing::TestWithParam<KeyType> {};

TEST_P(CanarySealInToken, OpensOnlyThroughTheToken) {
  Token token = open_token();
  SystemRandom random;
  KeyUri uri{"t2", std::string("seal-") + std::string(key_type_name(GetParam())), ""};
  auto key = token.generate(uri, GetParam(), random);
  ASSERT_TRUE(key) << key.error().message;
  const X509Ptr cert = cert_for(**key);
  auto made = ca::CanarySeal::to_token_key(**key, *cert);
  ASSERT_TRUE(made) << made.error().message;
  const auto& seal = *made;
  auto blob = seal.seal("canary key PEM", "crl canary 01", random);
  ASSERT_TRUE(blob) << blob.error().message;
  EXPECT_EQ(blob->find("canary key PEM"), std::string::npos);
  auto opened = seal.open(*blob, "crl canary 01");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, "canary key PEM");
  EXPECT_FALSE(seal.open(*blob, "crl canary 02")) << "bound to its canary";
  std::string tampered = *blob;
  tampered[tampered.size() - 1] ^= 1;
  EXPECT_FALSE(seal.open(tampered, "crl canary 01"));
  EXPECT_FALSE(seal.open(blob->substr(0, 20), "crl canary 01"));
  // Another key pair (a software one) cannot open it.
  auto other = generate_key(GetParam());
  ASSERT_TRUE(other);
  const X509Ptr other_cert = cert_for(**other);
  auto wrong = ca::CanarySeal::to_token_key(**other, *other_cert);
  ASSERT_TRUE(wrong);
  EXPECT_FALSE(wrong->open(*blob, "crl canary 01"));
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, CanarySealInToken,
                         ::testing::Values(KeyType::EcP256, KeyType::EcP384, KeyType::Rsa2048),
                         [](const auto& param_info) {
                           std::string name(key_type_name(param_info.param));
                           std::erase(name, '-');
                           return name;
                         });

}  // namespace
}  // namespace ck::token
