#include "rollout/file_backup.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "fakes/temp_dir.h"

namespace ck::rollout {
namespace {

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

TEST(FileBackup, RestoresBytesModesAndAbsence) {
  testing::TempDir dir;
  const auto key = dir.path() / "key.pem";
  const auto fresh = dir.path() / "fullchain.pem";
  ASSERT_TRUE(write_file_atomic(key, std::string("old key\0bytes", 13), 0640));
  auto before = capture({key, fresh});
  ASSERT_TRUE(before) << before.error().message;
  // Through the journal's form and back.
  auto decoded = decode_backup(encode_backup(*before));
  ASSERT_TRUE(decoded);
  // A deploy replaces one file and creates the other.
  ASSERT_TRUE(write_file_atomic(key, "new key", 0600));
  ASSERT_TRUE(write_file_atomic(fresh, "new chain", 0600));
  ASSERT_TRUE(restore(*decoded));
  EXPECT_EQ(*read_file(key), std::string("old key\0bytes", 13));
  EXPECT_EQ(mode_of(key), 0640u);
  EXPECT_FALSE(std::filesystem::exists(fresh));
}

TEST(FileBackup, RefusesDamagedJournalAndNonFiles) {
  EXPECT_FALSE(decode_backup("{"));
  EXPECT_FALSE(decode_backup(R"({"files":[{"path":"/x"}]})"));
  EXPECT_FALSE(decode_backup(R"({"files":[{"path":"/x","existed":true,"mode":384,"bytes":"*"}]})"));
  testing::TempDir dir;
  EXPECT_FALSE(capture({dir.path()}));
}

}  // namespace
}  // namespace ck::rollout
