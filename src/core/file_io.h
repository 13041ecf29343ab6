#pragma once
// File helpers with the guarantees certkeeper promises: secrets are created
// with their final mode (O_EXCL, never through a looser one, whatever the
// umask) and replacing a file is atomic (write new, fsync, rename).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace ck {

/// Reads a whole file; the error names the path and the reason.
[[nodiscard]] Result<std::string> read_file(const std::filesystem::path& path);

/// Writes `data` to `path` atomically with the given mode: a temporary file in
/// the same folder is created O_EXCL with `mode`, written, fsync'ed, renamed
/// over `path`, and the folder is fsync'ed. A reader sees the old file or the
/// new one, never half of one.
[[nodiscard]] Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                                       unsigned mode);

/// Makes a folder's entries (a rename, a new file) durable: fsync of the
/// folder. Best effort, like the rename it follows: it cannot be undone.
void sync_dir(const std::filesystem::path& dir);

/// Creates a new file that must not exist yet (O_EXCL) with `mode`.
[[nodiscard]] Status write_new_file(const std::filesystem::path& path, std::string_view data,
                                    unsigned mode);

/// Creates a folder (and parents) with mode 0700 if it is missing, and checks it
/// is a folder we can write into.
[[nodiscard]] Status ensure_writable_dir(const std::filesystem::path& dir);

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
  [[nodiscard]] static Result<std::optional<FileLock>> try_acquire(
      const std::filesystem::path& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace ck
