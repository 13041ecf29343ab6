#pragma once
// `certkeeper store backup FILE` and the file half of `store verify FILE`.
// A backup is a SQLite store of its own (whatever the store backed up: a
// SQLite home or PostgreSQL), so it is checked, opened and restored with
// the tools that work on any store.

#include <filesystem>
#include <string>
#include <utility>

#include "core/error.h"
#include "store/copy.h"
#include "store/store.h"

namespace ck::store {

struct BackupWritten {
  std::filesystem::path file;
  CopyReport copy;
};

/// Copies every row of `from` as one snapshot (other commands go on running)
/// into a new SQLite file: made 0600 under a temporary name beside `file`,
/// filled in one transaction, closed, fsync'ed, and only then named `file`
/// (never over an existing file: a backup is not overwritten by mistake).
/// On failure nothing is left at either name.
[[nodiscard]] Result<BackupWritten> backup_store(Store& from, const std::filesystem::path& file,
                                                 const CopyProgress& progress = {});

struct BackupFileCheck {
  std::string integrity;   // SQLite's integrity_check: "ok" when sound
  int schema = 0;          // the file's schema version
  int current_schema = 0;  // the one this certkeeper writes
};

/// A copy of a backup file in a folder of this process's own (0700, under
/// $TMPDIR), removed with it: `store verify` opens the copy, so the backup
/// itself is only read (a read-only file or mount works, and opening a store
/// changes nothing in it).
class PrivateCopy {
 public:
  PrivateCopy(std::filesystem::path dir, std::filesystem::path file)
      : dir_(std::move(dir)), file_(std::move(file)) {}
  PrivateCopy(PrivateCopy&& other) noexcept
      : dir_(std::exchange(other.dir_, {})), file_(std::move(other.file_)) {}
  PrivateCopy& operator=(PrivateCopy&&) = delete;
  PrivateCopy(const PrivateCopy&) = delete;
  PrivateCopy& operator=(const PrivateCopy&) = delete;
  ~PrivateCopy();
  [[nodiscard]] const std::filesystem::path& path() const { return file_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path file_;
};

/// Copies `file` (which must exist) into a PrivateCopy.
[[nodiscard]] Result<PrivateCopy> private_copy(const std::filesystem::path& file);

/// SQLite's integrity check and the schema version of a backup file (give
/// it a private_copy: reading may leave SQLite's side files). A file that
/// is no SQLite database fails naming it.
[[nodiscard]] Result<BackupFileCheck> check_backup_file(const std::filesystem::path& file);

}  // namespace ck::store
