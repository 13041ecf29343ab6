#include "core/fingerprint.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "core/pem.h"

namespace ck {
namespace {

// Expected values come from `openssl x509 -fingerprint` (tests/data/gen.sh).
std::map<std::string, std::string> expected() {
  std::ifstream in(CK_TEST_DATA "/fixture.expected");
  std::map<std::string, std::string> out;
  std::string key, value;
  while (in >> key >> value)
    out[key] = value;
  return out;
}

TEST(Fingerprint, MatchesOpensslForEveryDigestAndForm) {
  auto cert = load_cert(CK_TEST_DATA "/fixture.pem");
  ASSERT_TRUE(cert) << cert.error().message;
  const auto want = expected();
  for (const auto& [name, kind] :
       {std::pair{"md5", DigestKind::Md5}, std::pair{"sha1", DigestKind::Sha1},
        std::pair{"sha256", DigestKind::Sha256}}) {
    SCOPED_TRACE(name);
    const std::string colon = want.at(name);
    std::string hex_upper;
    for (char c : colon)
      if (c != ':')
        hex_upper += c;
    std::string hex_lower = hex_upper;
    for (char& c : hex_lower)
      c = static_cast<char>(std::tolower(c));
    EXPECT_EQ(*fingerprint(**cert, kind, FingerprintFormat::Colon), colon);
    EXPECT_EQ(*fingerprint(**cert, kind, FingerprintFormat::HexUpper), hex_upper);
    EXPECT_EQ(*fingerprint(**cert, kind, FingerprintFormat::Hex), hex_lower);
  }
}

TEST(Fingerprint, DerAndPemGiveTheSameCertificate) {
  auto pem = load_cert(CK_TEST_DATA "/fixture.pem");
  auto der = load_cert(CK_TEST_DATA "/fixture.der");
  ASSERT_TRUE(pem && der);
  EXPECT_EQ(::X509_cmp(pem->get(), der->get()), 0);
}

TEST(Fingerprint, RejectsUnknownNames) {
  EXPECT_FALSE(parse_digest_kind("sha512"));
  EXPECT_FALSE(parse_fingerprint_format("base64"));
}

}  // namespace
}  // namespace ck
