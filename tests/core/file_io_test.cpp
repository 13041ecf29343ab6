#include "core/file_io.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

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

TEST_F(UmaskZero, MissingParentFoldersAreCreated0700) {
  testing::TempDir dir;
  const auto deep = dir.path() / "a" / "b" / "home";
  ASSERT_TRUE(ensure_writable_dir(deep));
  EXPECT_EQ(mode_of(dir.path() / "a"), 0700u);
  EXPECT_EQ(mode_of(dir.path() / "a" / "b"), 0700u);
  EXPECT_EQ(mode_of(deep), 0700u);
}

// A dry run asks whether the folder could be made, and makes nothing.
TEST(FileIo, CheckWritableDirMakesNothing) {
  testing::TempDir dir;
  const auto deep = dir.path() / "a" / "b";
  ASSERT_TRUE(check_writable_dir(deep));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "a"));
  ASSERT_TRUE(check_writable_dir(dir.path()));
  const auto file = dir.path() / "plain";
  ASSERT_TRUE(write_new_file(file, "x", 0600));
  EXPECT_FALSE(check_writable_dir(file));
  auto under_file = check_writable_dir(file / "sub");
  ASSERT_FALSE(under_file);
  EXPECT_NE(under_file.error().message.find("is not a folder"), std::string::npos);
  const auto dangling = dir.path() / "dangling";
  std::filesystem::create_symlink(dir.path() / "nowhere", dangling);
  EXPECT_FALSE(check_writable_dir(dangling));  // mkdir would find the name taken
  if (::geteuid() != 0) {                      // root writes anywhere
    const auto locked = dir.path() / "locked";
    ASSERT_TRUE(ensure_writable_dir(locked));
    ::chmod(locked.c_str(), 0500);
    EXPECT_FALSE(check_writable_dir(locked / "new"));
    ::chmod(locked.c_str(), 0700);
  }
}

// A check asks whether a lock is held without making its file or taking it.
TEST(FileIo, HeldElsewhereMakesNothingAndSeesAHolder) {
  testing::TempDir dir;
  const auto path = dir.path() / ".plan.lock";
  auto none = FileLock::held_elsewhere(path);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_FALSE(std::filesystem::exists(path));
  {
    auto lock = FileLock::acquire(path);
    ASSERT_TRUE(lock);
    auto held = FileLock::held_elsewhere(path);
    ASSERT_TRUE(held);
    EXPECT_TRUE(*held);
  }
  auto released = FileLock::held_elsewhere(path);
  ASSERT_TRUE(released);
  EXPECT_FALSE(*released);
}

unsigned owner_of(const std::filesystem::path& p) {
  struct stat sb {};
  EXPECT_EQ(::lstat(p.c_str(), &sb), 0);
  return sb.st_uid;
}

// A deploy with `owner`: the file is given away before it takes its name.
// Someone who can write into the folder swaps a symlink to another file in
// under that name, again and again: a chown by path after the rename would
// follow it and give the other file away.
TEST(FileIo, TheOwnerIsSetThroughTheDescriptorNotThePath) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "giving a file to another user needs root";
  testing::TempDir dir;
  const auto victim = dir.path() / "shadow";
  ASSERT_TRUE(write_new_file(victim, "root's", 0600));
  const auto target = dir.path() / "key.pem";
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    const auto link = dir.path() / "swap";
    while (!stop) {
      ::unlink(link.c_str());
      if (::symlink(victim.c_str(), link.c_str()) == 0)
        ::rename(link.c_str(), target.c_str());
    }
  });
  for (int i = 0; i < 300; ++i)
    (void)write_file_atomic(target, "key", 0600, FileOwner{4242, 4242});
  stop = true;
  swapper.join();
  EXPECT_EQ(owner_of(victim), 0u) << "the symlinked file was given away";
  ::unlink(target.c_str());
  ASSERT_TRUE(write_file_atomic(target, "key", 0640, FileOwner{4242, std::nullopt}));
  EXPECT_EQ(owner_of(target), 4242u);
  EXPECT_EQ(mode_of(target), 0640u);
}

// A PID no process has now: a child that exited and was reaped.
pid_t gone_pid() {
  const pid_t child = ::fork();
  if (child == 0)
    ::_exit(0);
  int status = 0;
  if (child > 0)
    ::waitpid(child, &status, 0);
  return child;
}

// A crash between create and rename leaves ".NAME.tmp-PID-N"; the next write
// into the folder removes those of processes that are gone, and only those.
TEST(FileIo, TemporaryFilesOfDeadProcessesAreRemoved) {
  testing::TempDir dir;
  const pid_t child = gone_pid();
  ASSERT_GT(child, 0);
  const auto dead = dir.path() / (".alice.p12.tmp-" + std::to_string(child) + "-77");
  const auto live = dir.path() / (".bob.p12.tmp-" + std::to_string(::getppid()) + "-78");
  const auto other = dir.path() / ".notes.tmp-abc";
  for (const auto& p : {dead, live, other})
    ASSERT_TRUE(write_new_file(p, "partial", 0600));
  ASSERT_TRUE(write_file_atomic(dir.path() / "carol.p12", "bundle", 0600));
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(std::filesystem::exists(other));
}

// Names and files a leftover never has are left alone, and writing goes on:
// a PID of 20 digits (it once threw out of std::stoll), a FIFO (it once
// blocked the sweep's open) and a second name of another file.
TEST(FileIo, TheSweepLeavesWhatIsNotALeftover) {
  testing::TempDir dir;
  const pid_t child = gone_pid();
  ASSERT_GT(child, 0);
  const auto huge = dir.path() / ".x.tmp-99999999999999999999-1";
  const auto fifo = dir.path() / (".y.tmp-" + std::to_string(child) + "-2");
  const auto link = dir.path() / (".z.tmp-" + std::to_string(child) + "-3");
  const auto kept = dir.path() / "kept";
  ASSERT_TRUE(write_new_file(huge, "x", 0600));
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ASSERT_TRUE(write_new_file(kept, "precious", 0600));
  std::filesystem::create_hard_link(kept, link);
  ASSERT_TRUE(write_file_atomic(dir.path() / "carol.p12", "bundle", 0600));
  EXPECT_TRUE(std::filesystem::exists(huge));
  EXPECT_TRUE(std::filesystem::exists(fifo));
  EXPECT_EQ(*read_file(kept), "precious");
  EXPECT_EQ(*read_file(dir.path() / "carol.p12"), "bundle");
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

int entries(const std::filesystem::path& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++n;
  }
  return n;
}

TEST(FileIo, StagedFilesAppearTogetherOnCommit) {
  testing::TempDir dir;
  const auto p12 = dir.path() / "u.p12";
  const auto crt = dir.path() / "u.crt";
  const auto pw = dir.path() / "u.pw";
  ASSERT_TRUE(write_file_atomic(p12, "old p12", 0600));
  StagedFiles files;
  ASSERT_TRUE(files.stage(p12, "new p12", 0600));
  ASSERT_TRUE(files.stage_new(pw, "password", 0600));
  ASSERT_TRUE(files.stage(crt, "new crt", 0644));
  EXPECT_EQ(*read_file(p12), "old p12");  // nothing in place before commit
  EXPECT_FALSE(std::filesystem::exists(crt));
  ASSERT_TRUE(files.commit());
  EXPECT_EQ(*read_file(p12), "new p12");
  EXPECT_EQ(*read_file(pw), "password");
  EXPECT_EQ(*read_file(crt), "new crt");
  EXPECT_EQ(entries(dir.path()), 3);  // no temporary left
}

TEST(FileIo, StagedFilesChangeNothingWhenANewNameIsTaken) {
  testing::TempDir dir;
  const auto p12 = dir.path() / "u.p12";
  const auto pw = dir.path() / "u.pw";
  ASSERT_TRUE(write_file_atomic(p12, "old p12", 0600));
  ASSERT_TRUE(write_new_file(pw, "someone else's", 0600));
  {
    StagedFiles files;
    ASSERT_TRUE(files.stage(p12, "new p12", 0600));
    ASSERT_TRUE(files.stage_new(pw, "password", 0600));
    auto st = files.commit();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Code::AlreadyExists);
    EXPECT_NE(st.error().message.find(pw.string()), std::string::npos);
  }
  EXPECT_EQ(*read_file(p12), "old p12");
  EXPECT_EQ(*read_file(pw), "someone else's");
  EXPECT_EQ(entries(dir.path()), 2);  // the temporaries are removed
}

TEST(FileIo, StagedFilesNotCommittedLeaveNothing) {
  testing::TempDir dir;
  {
    StagedFiles files;
    ASSERT_TRUE(files.stage(dir.path() / "a", "a", 0644));
    ASSERT_TRUE(files.stage_new(dir.path() / "b", "b", 0600));
  }
  EXPECT_EQ(entries(dir.path()), 0);
}

// user import's way: staged without a sync each, made durable by one sync
// of their file system, moved (a moved-from set owns nothing), then put in
// place with the folders' syncs left to the caller.
TEST(FileIo, StagedFilesSyncedLaterAreCommittedLikeOthers) {
  testing::TempDir dir;
  StagedFiles files(StagedFiles::FileSync::Later);
  ASSERT_TRUE(files.stage(dir.path() / "u.p12", "p12", 0600));
  ASSERT_TRUE(files.stage_new(dir.path() / "u.pw", "pw", 0600));
  const auto dirs = files.dirs();
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0], dir.path());
  ASSERT_TRUE(sync_file_systems(dirs));
  StagedFiles moved(std::move(files));
  std::vector<std::filesystem::path> deferred;
  ASSERT_TRUE(moved.commit(&deferred));
  EXPECT_EQ(deferred.size(), 2u);
  sync_dirs(deferred);
  EXPECT_EQ(*read_file(dir.path() / "u.p12"), "p12");
  EXPECT_EQ(*read_file(dir.path() / "u.pw"), "pw");
  EXPECT_EQ(entries(dir.path()), 2);  // no temporary left
  auto missing = sync_file_systems({dir.path() / "nope"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
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
