#include "rollout/mask.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>

#include <gtest/gtest.h>
#include <openssl/err.h>

#include "core/base64.h"
#include "core/keygen.h"
#include "core/pem.h"

namespace ck::rollout {
namespace {

const std::string kKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVcB/UNPxalR9zDYA\n"
    "jQIfjojUDiQuGnSJrFEEzZPT/92hRANCAASc7UJtgnF/abqWM60T3XNJEzBv5ez9\n"
    "-----END PRIVATE KEY-----\n";

TEST(Mask, KeyBlocksOfAnyKindAreMasked) {
  const auto out = mask_secrets("before\n" + kKey +
                                    "after\n-----BEGIN EC PRIVATE KEY-----\nAAAA\n"
                                    "-----END EC PRIVATE KEY-----\n",
                                {});
  EXPECT_EQ(out, "before\n[secret]\nafter\n[secret]\n");
}

TEST(Mask, AKeyCutOffMidBlockIsMaskedToTheEnd) {
  EXPECT_EQ(mask_secrets("x\n" + kKey.substr(0, 60), {}), "x\n[secret]");
}

// A tool that re-wraps the key, or prints one line of it, or the passphrase.
TEST(Mask, SecretsAndTheirLinesAreMasked) {
  const auto out = mask_secrets(
      "line: jQIfjojUDiQuGnSJrFEEzZPT/92hRANCAASc7UJtgnF/abqWM60T3XNJEzBv5ez9\n"
      "pass=correct horse battery\n",
      {kKey, "correct horse battery"});
  EXPECT_EQ(out, "line: [secret]\npass=[secret]\n");
}

TEST(Mask, CertificatesAndShortSecretsAreLeftAlone) {
  const std::string cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(mask_secrets(cert + "ok\n", {"ok"}), cert + "ok\n");
}

// --- a key printed in another encoding than the PEM deployed ---------------

std::string bio_text(BIO* bio) {
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio, &p);
  return std::string(p, static_cast<std::size_t>(n));
}

// `openssl pkey -text -noout`: the private numbers as colon-separated hex.
std::string pkey_text(EVP_PKEY& key) {
  BioPtr bio(::BIO_new(::BIO_s_mem()));
  EXPECT_EQ(::EVP_PKEY_print_private(bio.get(), &key, 0, nullptr), 1);
  return bio_text(bio.get());
}

// The traditional DER (SEC1 for EC, PKCS#1 for RSA), not the PKCS#8 deployed.
std::string traditional_der(EVP_PKEY& key) {
  unsigned char* buf = nullptr;
  const int n = ::i2d_PrivateKey(&key, &buf);
  EXPECT_GT(n, 0);
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
  ::OPENSSL_free(buf);
  return out;
}

// What `base64` (coreutils) prints: 76 columns, here with CRLF line ends.
std::string wrap(const std::string& b64, std::size_t width, const std::string& eol) {
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += width)
    out += b64.substr(i, width) + eol;
  return out;
}

// The key's private numbers, from OpenSSL.
std::vector<std::string> private_numbers(EVP_PKEY& key) {
  std::vector<std::string> out;
  std::size_t len = 0;
  if (::EVP_PKEY_get_raw_private_key(&key, nullptr, &len) == 1) {
    std::string raw(len, '\0');
    ::EVP_PKEY_get_raw_private_key(&key, reinterpret_cast<unsigned char*>(raw.data()), &len);
    out.push_back(raw);
  }
  for (const char* name : {"priv", "d", "rsa-factor1", "rsa-factor2"}) {
    BIGNUM* bn = nullptr;
    if (::EVP_PKEY_get_bn_param(&key, name, &bn) != 1)
      continue;
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    ::BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    ::BN_free(bn);
    out.push_back(bytes);
  }
  ::ERR_clear_error();
  return out;
}

// A printed line as bytes, read as hex (colons allowed) or as base64.
std::vector<std::string> decodings(std::string line) {
  std::vector<std::string> out;
  std::string hex;
  for (char c : line) {
    if (std::isxdigit(static_cast<unsigned char>(c)))
      hex += c;
  }
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  out.push_back(bytes);
  std::string b64;
  for (char c : line) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
      b64 += c;
    else if (c == '+')
      b64 += '-';
    else if (c == '/')
      b64 += '_';
  }
  for (std::size_t skip = 0; skip < 4 && skip < b64.size(); ++skip) {  // a word before it
    const auto digits = b64.substr(skip);
    if (auto d = base64url_decode(digits.substr(0, digits.size() - digits.size() % 4)))
      out.push_back(*d);
  }
  return out;
}

// A line of what was printed that survived masking and holds 8 bytes in a
// row of a private number.
bool leaks(const std::string& masked, const std::string& printed,
           const std::vector<std::string>& numbers) {
  std::size_t start = 0;
  while (start < printed.size()) {
    auto nl = printed.find('\n', start);
    if (nl == std::string::npos)
      nl = printed.size();
    std::string line = printed.substr(start, nl - start);
    start = nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.pop_back();
    line.erase(0, line.find_first_not_of(' '));
    if (line.size() < 12 || masked.find(line) == std::string::npos)
      continue;
    for (const auto& bytes : decodings(line)) {
      for (const auto& n : numbers) {
        for (std::size_t i = 0; i + 8 <= n.size(); ++i) {
          if (bytes.find(n.substr(i, 8)) != std::string::npos)
            return true;
        }
      }
    }
  }
  return false;
}

class MaskKey : public ::testing::TestWithParam<KeyType> {};

TEST_P(MaskKey, KeyInBase64DerHexAndCrlfIsMasked) {
  auto key = generate_key(GetParam());
  ASSERT_TRUE(key);
  auto pem = private_key_to_pem(**key, nullptr);
  ASSERT_TRUE(pem);
  const std::vector<std::string> secrets{*pem};
  const auto numbers = private_numbers(**key);
  ASSERT_FALSE(numbers.empty());
  const std::string pkcs8_b64 = [&] {
    std::string body;
    for (std::size_t i = pem->find('\n') + 1; i < pem->size();) {
      const auto nl = pem->find('\n', i);
      const auto line = pem->substr(i, nl - i);
      if (line.starts_with("-----"))
        break;
      body += line;
      i = nl + 1;
    }
    return body;
  }();
  const std::string trad_b64 = base64_encode(traditional_der(**key));
  struct Case {
    const char* name;
    std::string printed;
  };
  const Case cases[] = {
      {"pkey -text", pkey_text(**key)},
      {"traditional DER, one base64 line", "key=" + trad_b64 + "\n"},
      {"traditional DER, base64 -w 76, CRLF", wrap(trad_b64, 76, "\r\n")},
      {"PKCS#8 DER, base64 -w 76, CRLF", wrap(pkcs8_b64, 76, "\r\n")},
      {"PKCS#8 DER, indented 4, wrapped 60", wrap(pkcs8_b64, 60, "\n    ")},
      {"PEM body with CRLF, no markers", wrap(pkcs8_b64, 64, "\r\n")},
      {"base64url of the DER", base64url_encode(traditional_der(**key)) + "\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string out = mask_secrets("deploying site\n" + c.printed + "done\n", secrets);
    EXPECT_FALSE(leaks(out, c.printed, numbers)) << out;
    EXPECT_TRUE(leaks(c.printed, c.printed, numbers)) << "the case does not print the key";
    EXPECT_NE(out.find("[secret]"), std::string::npos) << out;
    EXPECT_TRUE(out.starts_with("deploying site\n")) << out;
    EXPECT_TRUE(out.ends_with("done\n")) << out;
  }
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, MaskKey,
                         ::testing::Values(KeyType::EcP256, KeyType::Rsa2048, KeyType::Ed25519));

// The certificate of the key, and hex that is not the key (a fingerprint),
// are public: left alone.
TEST(Mask, PublicPartsAndOtherHexAreLeftAlone) {
  auto key = generate_key(KeyType::EcP256);
  ASSERT_TRUE(key);
  auto pem = private_key_to_pem(**key, nullptr);
  ASSERT_TRUE(pem);
  X509Ptr cert(::X509_new());
  ::X509_set_pubkey(cert.get(), key->get());
  ::X509_gmtime_adj(::X509_getm_notBefore(cert.get()), 0);
  ::X509_gmtime_adj(::X509_getm_notAfter(cert.get()), 86400);
  ASSERT_GT(::X509_sign(cert.get(), key->get(), ::EVP_sha256()), 0);
  BioPtr bio(::BIO_new(::BIO_s_mem()));
  ::PEM_write_bio_X509(bio.get(), cert.get());
  ::X509_print(bio.get(), cert.get());
  const std::string printed =
      bio_text(bio.get()) +
      "sha256 3f:2a:9b:11:07:c4:de:ad:be:ef:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd\n";
  EXPECT_EQ(mask_secrets(printed, {*pem}), printed);
}

TEST(Mask, TailKeepsTheEndFromALineStart) {
  EXPECT_EQ(tail("short", 10), "short");
  EXPECT_EQ(tail("first line\nsecond line\nthird\n", 14), "…third\n");
}

}  // namespace
}  // namespace ck::rollout
