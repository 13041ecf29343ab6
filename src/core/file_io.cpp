#include "core/file_io.h"

#include <sys/file.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdio.h>  // renameat2

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <set>

namespace ck {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

Error io_error(std::string_view verb, const std::filesystem::path& path, int err) {
  const Code code = (err == EACCES || err == EPERM || err == EROFS) ? Code::PermissionDenied
                    : (err == ENOENT || err == ENOTDIR)             ? Code::NotFound
                    : (err == EEXIST)                               ? Code::AlreadyExists
                    : (err == ENOSPC || err == EDQUOT)              ? Code::Storage
                                                                    : Code::Internal;
  return Error{
      code,
      std::string("cannot ") + std::string(verb) + " '" + path.string() + "': " + errno_text(err),
      {}};
}

Status write_all_and_sync(int fd, std::string_view data, const std::filesystem::path& path,
                          bool sync = true) {
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(io_error("write", path, errno));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    return fail(io_error("sync", path, errno));
  }
  return {};
}

// Creates `path` (O_EXCL) and writes it. Errors name `shown`, the file the
// operator asked for, not a temporary name. A file this call created and
// could not finish (a full disk, a failing sync) is removed: nothing
// half-written stays behind.
Status open_write_close(const std::filesystem::path& path, std::string_view data, unsigned mode,
                        const std::filesystem::path& shown, const FileOwner& owner = {},
                        bool sync = true) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        static_cast<mode_t>(mode));
  if (fd < 0) {
    return fail(io_error("create", shown, errno));
  }
  // Through the descriptor, before the file has its final name: a chown by
  // path after the rename would follow a symlink swapped in between.
  if ((owner.uid || owner.gid) && ::fchown(fd, owner.uid.value_or(static_cast<uid_t>(-1)),
                                           owner.gid.value_or(static_cast<gid_t>(-1))) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return fail(io_error("change the owner of", shown, err));
  }
  // The umask can only remove bits; fchmod makes the mode exact (e.g. 0644 for
  // a certificate under umask 077) without ever widening a secret. After the
  // chown, which clears set-id bits.
  Status written;
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    written = fail(io_error("chmod", shown, errno));
  } else {
    written = write_all_and_sync(fd, data, shown, sync);
  }
  if (::close(fd) != 0 && written) {
    written = fail(io_error("close", shown, errno));
  }
  if (!written) {
    ::unlink(path.c_str());
  }
  return written;
}

// ".NAME.tmp-PID-N" (write_file_atomic's naming): the PID, or 0.
pid_t temp_owner(const std::string& name) {
  const auto mark = name.rfind(".tmp-");
  if (name.size() < 2 || name[0] != '.' || mark == std::string::npos || mark < 2)
    return 0;
  const auto dash = name.find('-', mark + 5);
  const auto digits = [](std::string_view s) {
    // 18 digits at most: std::stoll below cannot overflow on a crafted name.
    return !s.empty() && s.size() <= 18 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (dash == std::string::npos ||
      !digits(std::string_view(name).substr(mark + 5, dash - mark - 5)) ||
      !digits(std::string_view(name).substr(dash + 1)))
    return 0;
  const auto pid = std::stoll(name.substr(mark + 5, dash - mark - 5));
  return pid > 0 && pid <= std::numeric_limits<pid_t>::max() ? static_cast<pid_t>(pid) : 0;
}

// Once per folder per process: temporary files of processes that are gone.
void remove_stale_temps(const std::filesystem::path& dir) {
  static std::mutex mu;
  static std::set<std::string> swept;
  {
    std::lock_guard lock(mu);
    if (!swept.insert(dir.string()).second)
      return;
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const auto pid = temp_owner(it->path().filename().string());
    if (pid == 0 || pid == ::getpid() || !process_gone(pid))
      continue;
    // Only a plain file with no other name: a FIFO would block the open, and
    // zeroing a hard link would zero a file that is not a leftover.
    struct stat sb {};
    if (::lstat(it->path().c_str(), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_nlink == 1)
      (void)wipe_file(it->path());
  }
}

// A temporary name beside `path`, after sweeping the folder once.
std::filesystem::path temp_name(const std::filesystem::path& path) {
  remove_stale_temps(path.parent_path());
  std::random_device rd;
  return path.parent_path() / ("." + path.filename().string() + ".tmp-" +
                               std::to_string(::getpid()) + "-" + std::to_string(rd()));
}

}  // namespace

bool process_gone(pid_t pid) {
  return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

void sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

namespace {

// Each folder once, however many files of a batch went to it.
std::vector<std::filesystem::path> distinct(std::vector<std::filesystem::path> dirs) {
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  return dirs;
}

}  // namespace

Status sync_file_systems(std::vector<std::filesystem::path> dirs) {
  for (const auto& d : distinct(std::move(dirs))) {
    const int fd = ::open(d.empty() ? "." : d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return fail(io_error("open", d, errno));
    // Reports the write-back errors of files written before it (Linux 5.8+).
    const int rc = ::syncfs(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0)
      return fail(io_error("sync the file system of", d, err));
  }
  return {};
}

void sync_dirs(std::vector<std::filesystem::path> dirs) {
  for (const auto& d : distinct(std::move(dirs)))
    sync_dir(d);
}

namespace {

Error too_large(std::string_view source, InputLimit limit) {
  return Error{Code::InvalidArgument,
               std::string(source) + ": larger than " + std::to_string(limit.bytes / kMiB) +
                   " MiB, the most certkeeper reads from " + std::string(limit.what),
               {}};
}

// Reads `fd` to its end, or fails once more than `limit.bytes` came: the
// check is on what was read, so a FIFO or /dev/zero stops there too.
Result<std::string> read_fd_capped(int fd, std::string_view source, InputLimit limit,
                                   const std::filesystem::path& path) {
  std::string out;
  struct stat sb {};
  if (::fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
    if (static_cast<std::uintmax_t>(sb.st_size) > limit.bytes)
      return fail(too_large(source, limit));
    out.reserve(static_cast<std::size_t>(sb.st_size));
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(io_error("read", path, errno));
    }
    if (n == 0) {
      return out;
    }
    if (out.size() + static_cast<std::size_t>(n) > limit.bytes) {
      return fail(too_large(source, limit));
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path, InputLimit limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(io_error("read", path, errno));
  }
  auto out = read_fd_capped(fd, "'" + path.string() + "'", limit, path);
  ::close(fd);
  return out;
}

Result<std::string> read_stdin(InputLimit limit) {
  return read_fd_capped(STDIN_FILENO, "standard input", limit, "standard input");
}

Status write_new_file(const std::filesystem::path& path, std::string_view data, unsigned mode) {
  auto st = open_write_close(path, data, mode, path);
  if (!st) {
    return st;
  }
  sync_dir(path.parent_path());
  return {};
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view data, unsigned mode,
                         const FileOwner& owner) {
  const auto tmp = temp_name(path);
  CK_TRY(open_write_close(tmp, data, mode, path, owner));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail(io_error("replace", path, err));
  }
  sync_dir(path.parent_path());
  return {};
}

StagedFiles& StagedFiles::operator=(StagedFiles&& other) noexcept {
  if (this != &other) {
    for (const auto& e : entries_)
      ::unlink(e.tmp.c_str());
    entries_ = std::move(other.entries_);
    other.entries_.clear();
    sync_ = other.sync_;
  }
  return *this;
}

StagedFiles::~StagedFiles() {
  for (const auto& e : entries_) {
    ::unlink(e.tmp.c_str());
  }
}

Status StagedFiles::stage(const std::filesystem::path& path, std::string_view data, unsigned mode,
                          const FileOwner& owner) {
  return add(path, data, mode, false, owner);
}

Status StagedFiles::stage_new(const std::filesystem::path& path, std::string_view data,
                              unsigned mode) {
  return add(path, data, mode, true, {});
}

Status StagedFiles::add(const std::filesystem::path& path, std::string_view data, unsigned mode,
                        bool must_be_new, const FileOwner& owner) {
  auto tmp = temp_name(path);
  CK_TRY(open_write_close(tmp, data, mode, path, owner, sync_ == FileSync::EachFile));
  entries_.push_back({path, std::move(tmp), must_be_new});
  return {};
}

std::vector<std::filesystem::path> StagedFiles::dirs() const {
  std::vector<std::filesystem::path> out;
  for (const auto& e : entries_)
    out.push_back(e.path.parent_path());
  return out;
}

Status StagedFiles::commit(std::vector<std::filesystem::path>* deferred_dirs) {
  std::vector<std::filesystem::path> linked;
  const auto undo_new = [&] {
    for (const auto& p : linked)
      ::unlink(p.c_str());
  };
  for (const auto& e : entries_) {
    if (!e.must_be_new)
      continue;
    // Refuses an existing name, as O_EXCL does for write_new_file; link() for
    // file systems without RENAME_NOREPLACE.
    int rc = ::renameat2(AT_FDCWD, e.tmp.c_str(), AT_FDCWD, e.path.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS))
      rc = ::link(e.tmp.c_str(), e.path.c_str());
    if (rc != 0) {
      const int err = errno;
      undo_new();
      return fail(io_error("create", e.path, err));
    }
    linked.push_back(e.path);
  }
  for (const auto& e : entries_) {
    if (!e.must_be_new && ::rename(e.tmp.c_str(), e.path.c_str()) != 0) {
      const int err = errno;
      undo_new();
      return fail(io_error("replace", e.path, err));
    }
  }
  for (const auto& e : entries_) {
    if (e.must_be_new)
      ::unlink(e.tmp.c_str());
    if (deferred_dirs)
      deferred_dirs->push_back(e.path.parent_path());
    else
      sync_dir(e.path.parent_path());
  }
  entries_.clear();
  return {};
}

Status ensure_writable_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    // Each missing folder made 0700 (mkdir can only narrow it): parents made
    // by create_directories would get 0777 under umask 000.
    std::filesystem::path at;
    for (const auto& part : dir) {
      at /= part;
      if (::mkdir(at.c_str(), 0700) != 0 && errno != EEXIST) {
        return fail(Code::PermissionDenied,
                    "cannot create folder '" + at.string() + "': " + errno_text(errno));
      }
    }
  } else if (!std::filesystem::is_directory(dir, ec)) {
    return fail(Code::InvalidArgument, "'" + dir.string() + "' is not a folder");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return fail(io_error("write into", dir, errno));
  }
  return {};
}

Status check_writable_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  // The name itself, not what it points to: a dangling link is in the way too.
  if (std::filesystem::symlink_status(dir, ec).type() != std::filesystem::file_type::not_found) {
    if (!std::filesystem::is_directory(dir, ec))
      return fail(Code::InvalidArgument, "'" + dir.string() + "' is not a folder");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
      return fail(io_error("write into", dir, errno));
    return {};
  }
  std::filesystem::path parent = std::filesystem::absolute(dir, ec).parent_path();
  while (!parent.empty() && !std::filesystem::exists(parent, ec) && parent != parent.root_path())
    parent = parent.parent_path();
  if (parent.empty())
    parent = ".";
  if (!std::filesystem::is_directory(parent, ec))
    return fail(Code::InvalidArgument, "cannot create folder '" + dir.string() + "': '" +
                                           parent.string() + "' is not a folder");
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    return fail(Code::PermissionDenied,
                "cannot create folder '" + dir.string() + "': " + errno_text(errno));
  }
  return {};
}

Result<FileLock> FileLock::acquire(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(Code::PermissionDenied,
                "cannot open lock file '" + path.string() + "': " + std::strerror(errno));
  }
  return lock_exclusive(fd, path);
}

Result<FileLock> FileLock::lock_exclusive(int fd, const std::filesystem::path& path) {
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      const int err = errno;
      ::close(fd);
      return fail(Code::Unavailable, "cannot lock '" + path.string() + "': " + std::strerror(err));
    }
  }
  return FileLock(fd);
}

Result<bool> FileLock::held_elsewhere(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return false;
    return fail(Code::PermissionDenied,
                "cannot open lock file '" + path.string() + "': " + std::strerror(errno));
  }
  int rc = 0;
  while ((rc = ::flock(fd, LOCK_SH | LOCK_NB)) != 0 && errno == EINTR) {
  }
  const int err = errno;
  ::close(fd);  // gives back the shared lock when it was taken
  if (rc == 0)
    return false;
  if (err == EWOULDBLOCK)
    return true;
  return fail(Code::Unavailable, "cannot lock '" + path.string() + "': " + std::strerror(err));
}

Result<std::optional<FileLock>> FileLock::try_acquire(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(Code::PermissionDenied,
                "cannot open lock file '" + path.string() + "': " + std::strerror(errno));
  }
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EINTR)
      continue;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return std::optional<FileLock>();
    return fail(Code::Unavailable, "cannot lock '" + path.string() + "': " + std::strerror(err));
  }
  return std::optional<FileLock>(FileLock(fd));
}

Result<bool> wipe_file(const std::filesystem::path& path) {
  // O_NONBLOCK: a FIFO swapped in for the file must not hang the open.
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0 && errno == EACCES) {
    // A 0400 key of ours: made writable through a descriptor of the file
    // itself (never a path a symlink could replace), reopened, and checked to
    // be the same file.
    const int ro = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat before {};
    if (ro >= 0 && ::fstat(ro, &before) == 0 && S_ISREG(before.st_mode) &&
        ::fchmod(ro, 0600) == 0) {
      fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      struct stat after {};
      if (fd >= 0 && (::fstat(fd, &after) != 0 || after.st_ino != before.st_ino ||
                      after.st_dev != before.st_dev)) {
        ::close(fd);
        fd = -1;
      }
    }
    if (ro >= 0)
      ::close(ro);
    if (fd < 0)
      errno = EACCES;  // the reason to report is the first one
  }
  if (fd < 0) {
    if (errno == ENOENT)
      return false;
    if (errno == ELOOP) {
      return fail(Code::InvalidArgument,
                  "'" + path.string() + "' is a symbolic link; not removed (name the file)");
    }
    return fail(Code::Storage, "cannot open '" + path.string() + "': " + std::strerror(errno));
  }
  struct stat st {};
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = fail(Code::Storage, "cannot inspect '" + path.string() + "': " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = fail(Code::InvalidArgument, "'" + path.string() + "' is not a file; not removed");
  } else {
    const std::string zeros(64 * 1024, '\0');
    off_t left = st.st_size;
    while (status && left > 0) {
      const auto n =
          ::write(fd, zeros.data(), static_cast<std::size_t>(std::min<off_t>(left, zeros.size())));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        status = fail(Code::Storage,
                      "cannot overwrite '" + path.string() + "': " + std::strerror(errno));
      else
        left -= n;
    }
    if (status && ::fsync(fd) != 0)
      status = fail(Code::Storage, "cannot sync '" + path.string() + "': " + std::strerror(errno));
  }
  ::close(fd);
  if (!status)
    return fail(status.error());
  if (::unlink(path.c_str()) != 0)
    return fail(Code::Storage, "cannot remove '" + path.string() + "': " + std::strerror(errno));
  return true;
}

FileLock::~FileLock() {
  if (fd_ >= 0)
    ::close(fd_);  // releases the lock
}

}  // namespace ck
