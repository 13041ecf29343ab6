#include <sys/stat.h>

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include "core/file_io.h"
#include "core/keygen.h"
#include "core/pem.h"
#include "fakes/temp_dir.h"
#include "servercert/inventory.h"

namespace ck::servercert {
namespace {

Material self_signed(long serial) {
  Material m;
  m.key = std::move(*generate_key(KeyType::EcP256));
  m.cert.reset(::X509_new());
  ::ASN1_INTEGER_set(::X509_get_serialNumber(m.cert.get()), serial);
  ::X509_gmtime_adj(::X509_getm_notBefore(m.cert.get()), 0);
  ::X509_gmtime_adj(::X509_getm_notAfter(m.cert.get()), 86400);
  ::X509_set_pubkey(m.cert.get(), m.key.get());
  ::X509_sign(m.cert.get(), m.key.get(), ::EVP_sha256());
  return m;
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::size_t versions(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    n += e.path().filename().string().starts_with(".v-") ? 1 : 0;
  return n;
}

// Each renewal's files appear together: cert.pem and key.pem lead through one
// symlink to one folder, so they always belong to each other.
TEST(WriteOut, OneSwitchPerRenewalAndTheReplacedSetIsKept) {
  ck::testing::TempDir dir;
  const auto out = dir.path() / "www";
  const auto first = self_signed(1), second = self_signed(2), third = self_signed(3);
  ASSERT_TRUE(write_out(out, first));
  ASSERT_TRUE(write_out(out, second));
  EXPECT_EQ(*read_file(out / "cert.pem"), *cert_to_pem(*second.cert));
  EXPECT_EQ(*read_file(out / "key.pem"), *private_key_to_pem(*second.key, nullptr));
  EXPECT_EQ(*read_file(out / "fullchain.pem"), *cert_to_pem(*second.cert));
  EXPECT_TRUE(std::filesystem::is_symlink(out / "key.pem"));
  EXPECT_EQ(std::filesystem::read_symlink(out / "key.pem"), "current/key.pem");
  for (const char* f : {"cert.pem", "chain.pem", "fullchain.pem", "key.pem"})
    EXPECT_EQ(mode_of(out / f), 0600u) << f;
  EXPECT_EQ(mode_of(out / "current"), 0700u);
  EXPECT_EQ(versions(out), 2u);  // the new set and the one it replaced
  ASSERT_TRUE(write_out(out, third));
  EXPECT_EQ(versions(out), 2u);  // the first is gone
  EXPECT_EQ(*read_file(out / "cert.pem"), *cert_to_pem(*third.cert));
  // The same certificate again changes nothing (the replaced set stays).
  ASSERT_TRUE(write_out(out, third));
  EXPECT_EQ(versions(out), 2u);
  EXPECT_EQ(*read_file(out / "key.pem"), *private_key_to_pem(*third.key, nullptr));
}

// A folder written by the earlier layout (four plain files) is taken over.
TEST(WriteOut, PlainFilesFromTheEarlierLayoutBecomeLinks) {
  ck::testing::TempDir dir;
  const auto out = dir.path() / "www";
  ASSERT_TRUE(ensure_writable_dir(out));
  for (const char* f : {"cert.pem", "chain.pem", "fullchain.pem", "key.pem"})
    ASSERT_TRUE(write_new_file(out / f, "old", 0600));
  const auto m = self_signed(4);
  ASSERT_TRUE(write_out(out, m));
  EXPECT_TRUE(std::filesystem::is_symlink(out / "cert.pem"));
  EXPECT_EQ(*read_file(out / "cert.pem"), *cert_to_pem(*m.cert));
  // The earlier files became the kept set (every step served one whole set).
  EXPECT_EQ(*read_file(out / ".v-earlier" / "key.pem"), "old");
  EXPECT_EQ(versions(out), 2u);
}

// Clearing old sets never follows a link someone planted in the folder.
TEST(WriteOut, CleanupDoesNotFollowAPlantedLink) {
  ck::testing::TempDir dir;
  const auto out = dir.path() / "www";
  const auto elsewhere = dir.path() / "elsewhere";
  ASSERT_TRUE(ensure_writable_dir(elsewhere));
  ASSERT_TRUE(write_new_file(elsewhere / "key.pem", "precious", 0600));
  ASSERT_TRUE(write_out(out, self_signed(5)));
  std::filesystem::create_directory_symlink(elsewhere, out / ".v-planted");
  ASSERT_TRUE(write_out(out, self_signed(6)));
  ASSERT_TRUE(write_out(out, self_signed(7)));
  EXPECT_EQ(*read_file(elsewhere / "key.pem"), "precious");
}

}  // namespace
}  // namespace ck::servercert
