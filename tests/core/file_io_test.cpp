#include "core/file_io.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "fakes/temp_dir.h"

namespace ck {
namespace {

unsigned mode_of(const std::filesystem::path& p) {
  struct stat sb {};
  EXPECT_EQ(::stat(p.c_str(), &sb), 0);
  return sb.st_mode & 07777;
}

class UmaskZero : public ::testing::Test {
 protected:
  void SetUp() override { old_ = ::umask(0); }
  void TearDown() override { ::umask(old_); }
  mode_t old_ = 0;
};

TEST_F(UmaskZero, SecretsAreCreated0600EvenUnderUmaskZero) {
  testing::TempDir dir;
  const auto p = dir.path() / "bundle.p12";
  ASSERT_TRUE(write_file_atomic(p, "secret", 0600));
  EXPECT_EQ(mode_of(p), 0600u);
  ASSERT_TRUE(write_file_atomic(p, "secret2", 0600));  // replace keeps the mode
  EXPECT_EQ(mode_of(p), 0600u);
  EXPECT_EQ(*read_file(p), "secret2");
}

TEST(FileIo, AtomicReplaceLeavesNoTemporaryFiles) {
  testing::TempDir dir;
  const auto p = dir.path() / "ca.crl";
  ASSERT_TRUE(write_file_atomic(p, "one", 0644));
  ASSERT_TRUE(write_file_atomic(p, "two", 0644));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  EXPECT_EQ(*read_file(p), "two");
}

TEST(FileIo, NewFileRefusesToOverwrite) {
  testing::TempDir dir;
  const auto p = dir.path() / "password";
  ASSERT_TRUE(write_new_file(p, "a", 0600));
  auto again = write_new_file(p, "b", 0600);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::AlreadyExists);
  EXPECT_EQ(*read_file(p), "a");
}

TEST(FileIo, ErrorsNameThePath) {
  auto r = read_file("/nonexistent/certkeeper/file");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent/certkeeper/file"), std::string::npos);
  testing::TempDir dir;
  const auto file = dir.path() / "plain";
  ASSERT_TRUE(write_new_file(file, "x", 0600));
  auto d = ensure_writable_dir(file);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("not a folder"), std::string::npos);
}

// A limit holds for a regular file (seen by its size), and for /dev/zero or
// a FIFO (counted while reading): one error naming the input and the limit.
TEST(FileIo, ReadStopsAtItsLimit) {
  testing::TempDir dir;
  const auto p = dir.path() / "big.pem";
  ASSERT_TRUE(write_new_file(p, std::string(100, 'x'), 0644));
  constexpr InputLimit k100{100, "a test input"};
  constexpr InputLimit k99{99, "a test input"};
  EXPECT_EQ(read_file(p, k100)->size(), 100U);
  auto big = read_file(p, k99);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Code::InvalidArgument);
  EXPECT_NE(big.error().message.find("big.pem"), std::string::npos);
  EXPECT_NE(big.error().message.find("a test input"), std::string::npos);
  auto zero = read_file("/dev/zero", InputLimit{kMiB, "a test input"});
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message,
            "'/dev/zero': larger than 1 MiB, the most certkeeper reads from a test input");
}

TEST(FileIo, WipeOverwritesThenRemoves) {
  testing::TempDir dir;
  const auto key = dir.path() / "key.pem";
  ASSERT_TRUE(write_new_file(key, "-----BEGIN PRIVATE KEY-----\nsecret\n", 0400));
  // A second name for the same bytes shows what the wipe left in them.
  const auto link = dir.path() / "hard";
  std::filesystem::create_hard_link(key, link);
  auto wiped = wipe_file(key);
  ASSERT_TRUE(wiped) << wiped.error().message;
  EXPECT_TRUE(*wiped);
  EXPECT_FALSE(std::filesystem::exists(key));
  EXPECT_EQ(*read_file(link), std::string(35, '\0'));
  auto missing = wipe_file(key);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST(FileIo, WipeRefusesASymlink) {
  testing::TempDir dir;
  const auto target = dir.path() / "target";
  ASSERT_TRUE(write_new_file(target, "keep", 0600));
  std::filesystem::create_symlink(target, dir.path() / "link");
  auto wiped = wipe_file(dir.path() / "link");
  ASSERT_FALSE(wiped);
  EXPECT_NE(wiped.error().message.find("symbolic link"), std::string::npos);
  EXPECT_EQ(*read_file(target), "keep");
}

TEST(FileIo, TryAcquireSaysWhenTheLockIsHeld) {
  testing::TempDir dir;
  auto first = FileLock::try_acquire(dir.path() / "lock");
  ASSERT_TRUE(first && *first);
  auto second = FileLock::try_acquire(dir.path() / "lock");
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);  // flock locks belong to the open file: a second open waits
  first->reset();
  auto third = FileLock::try_acquire(dir.path() / "lock");
  ASSERT_TRUE(third);
  EXPECT_TRUE(*third);
}

}  // namespace
}  // namespace ck
