#include "rollout/pins.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <fstream>

#include "core/fingerprint.h"
#include "core/keygen.h"
#include "fakes/temp_dir.h"

namespace ck::rollout {
namespace {

X509Ptr self_signed(long serial) {
  auto key = generate_key(KeyType::EcP256);
  X509Ptr cert(::X509_new());
  ::ASN1_INTEGER_set(::X509_get_serialNumber(cert.get()), serial);
  ::X509_gmtime_adj(::X509_getm_notBefore(cert.get()), 0);
  ::X509_gmtime_adj(::X509_getm_notAfter(cert.get()), 86400);
  ::X509_set_pubkey(cert.get(), key->get());
  ::X509_sign(cert.get(), key->get(), ::EVP_sha256());
  return cert;
}

std::string fp(const X509& c, DigestKind kind, FingerprintFormat format) {
  return *fingerprint(c, kind, format);
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

class Pins : public ::testing::Test {
 protected:
  void write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories(dir.path() / "monit");
    std::ofstream(dir.path() / "monit" / name) << text;
  }
  Plan plan_with(DigestKind kind, FingerprintFormat format) {
    Plan p;
    p.file = dir.path() / "plan.toml";
    p.pins.push_back(Pin{{"monit/*.conf"}, kind, format, 1});
    return p;
  }
  ck::testing::TempDir dir;
  X509Ptr old_cert = self_signed(1), new_cert = self_signed(2);
};

// monit's certmd5 written in either case is found; the new one is written
// in the pin's format; the rest of the file is left alone.
TEST_F(Pins, ReplacesTheOldFingerprintInEitherCase) {
  const auto old_upper = fp(*old_cert, DigestKind::Md5, FingerprintFormat::HexUpper);
  const auto old_lower = fp(*old_cert, DigestKind::Md5, FingerprintFormat::Hex);
  const auto new_upper = fp(*new_cert, DigestKind::Md5, FingerprintFormat::HexUpper);
  write("a.conf", "check host a\n  certmd5 " + old_upper + " then alert\n");
  write("b.conf", "certmd5 " + old_lower + "\ncertmd5 " + old_upper + "\n");
  write("c.conf", "nothing pinned here\n");
  const auto edits =
      plan_pin_edits(plan_with(DigestKind::Md5, FingerprintFormat::HexUpper), *old_cert, *new_cert);
  ASSERT_TRUE(edits) << edits.error().message;
  ASSERT_EQ(edits->size(), 3u);
  EXPECT_EQ((*edits)[0].after, "check host a\n  certmd5 " + new_upper + " then alert\n");
  EXPECT_EQ((*edits)[0].replaced, 1u);
  EXPECT_EQ((*edits)[1].replaced, 2u);
  EXPECT_EQ((*edits)[1].after, "certmd5 " + new_upper + "\ncertmd5 " + new_upper + "\n");
  EXPECT_EQ((*edits)[2].replaced, 0u);
  EXPECT_FALSE((*edits)[2].holds_new);
  // Planning an edit writes nothing.
  EXPECT_EQ(slurp(dir.path() / "monit" / "a.conf"),
            "check host a\n  certmd5 " + old_upper + " then alert\n");
}

// A fingerprint inside a longer hex run (a SHA-256 that starts like the MD5)
// is not a pin.
TEST_F(Pins, MatchesOnlyWholeFingerprints) {
  const auto old_hex = fp(*old_cert, DigestKind::Md5, FingerprintFormat::Hex);
  write("a.conf", "x " + old_hex + "ab\nab" + old_hex + "\n");
  const auto edits =
      plan_pin_edits(plan_with(DigestKind::Md5, FingerprintFormat::Hex), *old_cert, *new_cert);
  ASSERT_TRUE(edits);
  EXPECT_EQ((*edits)[0].replaced, 0u);
}

TEST_F(Pins, ColonFormatAndAFileThatHoldsTheNewOneAlready) {
  const auto new_colon = fp(*new_cert, DigestKind::Sha256, FingerprintFormat::Colon);
  write("a.conf", "pin " + new_colon + "\n");
  const auto edits =
      plan_pin_edits(plan_with(DigestKind::Sha256, FingerprintFormat::Colon), *old_cert, *new_cert);
  ASSERT_TRUE(edits);
  EXPECT_EQ((*edits)[0].replaced, 0u);
  EXPECT_TRUE((*edits)[0].holds_new);
}

}  // namespace
}  // namespace ck::rollout
