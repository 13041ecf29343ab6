#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "fakes/temp_dir.h"

namespace ck::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = open_store("sqlite:" + (dir_.path() / "ck.db").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, DatabaseFileIsPrivateAndReopensAtTheSameSchema) {
  struct stat sb {};
  ASSERT_EQ(::stat((dir_.path() / "ck.db").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  auto again = open_store("sqlite:" + (dir_.path() / "ck.db").string());
  ASSERT_TRUE(again) << again.error().message;
}

// A connection in WAL mode holds a shared lock on the database file for as
// long as it is open: it tells another process's last connection not to
// checkpoint and delete the WAL under it. Opening a second connection in the
// same process must keep it (closing any descriptor of the file drops every
// POSIX lock the process holds on it: serve then read a stale WAL).
TEST_F(SqliteStoreTest, OpeningAnotherConnectionKeepsTheFirstOnesLock) {
  const auto db = dir_.path() / "ck.db";
  ASSERT_TRUE(store_->read());  // the first connection has read the database
  // Asks, through an open file description of its own, whether a write lock
  // on the whole file would conflict (OFD locks see the process's own POSIX
  // locks as another owner's). Its descriptor stays open until the end: closing
  // it would drop those locks itself.
  const int probe = ::open(db.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(probe, 0);
  auto locked = [&] {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    EXPECT_EQ(::fcntl(probe, F_OFD_GETLK, &fl), 0);
    return fl.l_type != F_UNLCK;
  };
  EXPECT_TRUE(locked()) << "the first connection holds no lock: the test cannot tell";
  auto second = open_store("sqlite:" + db.string());
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_TRUE((*second)->read());
  second->reset();
  EXPECT_TRUE(locked()) << "opening and closing a second connection dropped the first one's lock";
  ::close(probe);
}

// A store that does not exist is not created by a command that only reads.
TEST(OpenStoreTest, ExistingModeCreatesNothing) {
  testing::TempDir dir;
  const auto path = dir.path() / "none.db";
  auto missing = open_store("sqlite:" + path.string(), OpenMode::Existing);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::NotFound);
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(write_file_atomic(path, "", 0600));
  auto blank = open_store("sqlite:" + path.string(), OpenMode::Existing);
  ASSERT_FALSE(blank);
  EXPECT_EQ(blank.error().code, Code::NotFound);
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  // Created, but with neither a CA nor a server certificate: still no store
  // for a command that reads one.
  auto created = open_store("sqlite:" + path.string(), OpenMode::Create);
  ASSERT_TRUE(created);
  auto empty = open_store("sqlite:" + path.string(), OpenMode::Existing);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Code::NotFound);
  {
    auto tx = (*created)->write();
    ASSERT_TRUE(tx);
    CaRecord ca;
    ca.name = "CA";
    ca.key_type = "ec-p256";
    ca.cert_der = "x";
    ca.key_pem = "k";
    ASSERT_TRUE((*tx)->insert_ca(ca));
    ASSERT_TRUE((*tx)->commit());
  }
  EXPECT_TRUE(open_store("sqlite:" + path.string(), OpenMode::Existing));
}

TEST(SqliteStoreOpen, NotADatabaseIsAClearError) {
  testing::TempDir dir;
  const auto path = dir.path() / "junk.db";
  ASSERT_TRUE(write_new_file(path, std::string(4096, 'x'), 0600));
  auto s = open_store("sqlite:" + path.string());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find(path.string()), std::string::npos);
  EXPECT_NE(s.error().message.find("not a"), std::string::npos);
}

TEST(SqliteStoreOpen, ForeignSqliteDatabaseIsRefused) {
  testing::TempDir dir;
  const auto path = dir.path() / "other.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(::sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(::sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
    ::sqlite3_close(db);
  }
  auto s = open_store("sqlite:" + path.string());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("not a certkeeper database"), std::string::npos);
}

TEST(SqliteStoreOpen, UnknownUrlSchemes) {
  EXPECT_FALSE(open_store("mysql://x"));
}

}  // namespace
}  // namespace ck::store
