#pragma once
// File helpers with the guarantees certkeeper promises: secrets are created
// with their final mode (O_EXCL, never through a looser one, whatever the
// umask) and replacing a file is atomic (write new, fsync, rename).

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace ck {

/// The most certkeeper reads of one kind of input, well above real use: a
/// file past it (a 3 GB log passed by mistake, /dev/zero, a FIFO that never
/// ends) is refused with one error naming the file and the limit, instead of
/// being read until memory runs out. docs/limits.md lists them.
struct InputLimit {
  std::size_t bytes;
  std::string_view what;  // "a certificate, key or PEM bundle", for the error
};
inline constexpr std::size_t kMiB = std::size_t{1} << 20;
inline constexpr InputLimit kPemInput{16 * kMiB, "a certificate, key, CSR or PEM bundle"};
inline constexpr InputLimit kTomlInput{16 * kMiB, "a TOML file (configuration or plan)"};
inline constexpr InputLimit kCsvInput{256 * kMiB, "a CSV file"};
inline constexpr InputLimit kIndexInput{256 * kMiB, "an index.txt"};
inline constexpr InputLimit kAnyInput{256 * kMiB, "a file"};

/// Reads a whole file of at most `limit.bytes`; the error names the path and
/// the reason (or the limit). Never reads more than the limit plus one buffer.
[[nodiscard]] Result<std::string> read_file(const std::filesystem::path& path,
                                            InputLimit limit = kAnyInput);

/// Reads standard input to its end, at most `limit.bytes`.
[[nodiscard]] Result<std::string> read_stdin(InputLimit limit);

/// Who a written file belongs to; unset fields stay the writer's.
struct FileOwner {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

/// Writes `data` to `path` atomically with the given mode: a temporary file in
/// the same folder is created O_EXCL with `mode` (and given to `owner`,
/// through its descriptor), written, fsync'ed, renamed over `path`, and the
/// folder is fsync'ed. A reader sees the old file or the new one, never half
/// of one, and never the new one with another owner or mode.
///
/// The first write into a folder in a process also removes (wiped) the
/// temporary files of this naming (".NAME.tmp-PID-N") that a process no
/// longer running left there: a crash between create and rename.
[[nodiscard]] Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                                       unsigned mode, const FileOwner& owner = {});

/// Files written as one: each is written to a temporary file in its folder and
/// fsync'ed by `stage` or `stage_new`, and only `commit` puts them in place.
/// A full disk or a read-only folder therefore fails while staging, before
/// any file changes (a user's .p12 is never replaced without its .crt and
/// password file). Temporaries not committed are removed on destruction.
class StagedFiles {
 public:
  /// EachFile: `stage` syncs each file. Later: it does not; the caller makes
  /// every staged file durable at once with sync_file_systems(dirs()) before
  /// `commit` (user import: one sync per batch instead of one per file).
  enum class FileSync { EachFile, Later };
  StagedFiles() = default;
  explicit StagedFiles(FileSync sync) : sync_(sync) {}
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;
  StagedFiles(StagedFiles&& other) noexcept
      : entries_(std::move(other.entries_)), sync_(other.sync_) {
    other.entries_.clear();
  }
  StagedFiles& operator=(StagedFiles&& other) noexcept;
  ~StagedFiles();
  /// A file that replaces whatever is at `path` on commit, given to `owner`
  /// (through its descriptor) before it has its name.
  [[nodiscard]] Status stage(const std::filesystem::path& path, std::string_view data,
                             unsigned mode, const FileOwner& owner = {});
  /// A file that must not exist yet: commit fails (changing nothing) if it does.
  [[nodiscard]] Status stage_new(const std::filesystem::path& path, std::string_view data,
                                 unsigned mode);
  /// Puts the files in place: the new ones first (a name taken fails before
  /// anything is replaced), then the replacements. Renames need no space.
  /// The folders' entries are synced, or, with `deferred_dirs`, appended
  /// there for the caller to sync once for many commits (sync_dirs).
  [[nodiscard]] Status commit(std::vector<std::filesystem::path>* deferred_dirs = nullptr);
  /// The folders the staged files go to.
  [[nodiscard]] std::vector<std::filesystem::path> dirs() const;

 private:
  struct Entry {
    std::filesystem::path path;
    std::filesystem::path tmp;
    bool must_be_new = false;
  };
  Status add(const std::filesystem::path& path, std::string_view data, unsigned mode,
             bool must_be_new, const FileOwner& owner);
  std::vector<Entry> entries_;
  FileSync sync_ = FileSync::EachFile;
};

/// Makes a folder's entries (a rename, a new file) durable: fsync of the
/// folder. Best effort, like the rename it follows: it cannot be undone.
void sync_dir(const std::filesystem::path& dir);
/// True when no process `pid` exists on this host (kill(pid, 0) says ESRCH):
/// what a temporary file or folder named after its writer's PID is left by.
[[nodiscard]] bool process_gone(pid_t pid);
/// syncfs() of the file system of each distinct folder in `dirs`: every
/// file written there so far is durable (their names are not: sync_dir).
[[nodiscard]] Status sync_file_systems(std::vector<std::filesystem::path> dirs);
/// sync_dir of each distinct folder in `dirs`, once.
void sync_dirs(std::vector<std::filesystem::path> dirs);

/// Creates a new file that must not exist yet (O_EXCL) with `mode`.
[[nodiscard]] Status write_new_file(const std::filesystem::path& path, std::string_view data,
                                    unsigned mode);

/// Creates a folder (and every missing parent) with mode 0700 if it is
/// missing, whatever the umask, and checks it is a folder we can write into.
[[nodiscard]] Status ensure_writable_dir(const std::filesystem::path& dir);
/// What ensure_writable_dir would find, making nothing (a dry run): the
/// folder is one we can write into, or it is missing and the nearest
/// existing parent is a folder that lets us make it.
[[nodiscard]] Status check_writable_dir(const std::filesystem::path& dir);

/// Overwrites a file's bytes with zeros (fsync'ed), then unlinks it: a key
/// left on disk for a rollout does not stay readable in freed blocks of a
/// simple file system. A missing file is not an error (returns false).
[[nodiscard]] Result<bool> wipe_file(const std::filesystem::path& path);

/// An exclusive advisory lock (flock) on a file, held until destruction. For
/// work that must not run twice at once, such as sending notifications.
class FileLock {
 public:
  /// Creates the file (0600) if needed and waits for the lock.
  [[nodiscard]] static Result<FileLock> acquire(const std::filesystem::path& path);
  /// Like acquire, but returns nullopt at once when another process holds it.
  /// Whether another process holds the lock at `path` now; makes nothing (a
  /// missing file is a lock nobody holds). For checks that must not write.
  [[nodiscard]] static Result<bool> held_elsewhere(const std::filesystem::path& path);
  [[nodiscard]] static Result<std::optional<FileLock>> try_acquire(
      const std::filesystem::path& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  static Result<FileLock> lock_exclusive(int fd, const std::filesystem::path& path);
  int fd_;
};

}  // namespace ck
