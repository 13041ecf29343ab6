#pragma once
// `certkeeper store backup FILE` and the file half of `store verify FILE`.
// A backup is a SQLite store of its own (whatever the store backed up: a
// SQLite home or PostgreSQL), so it is checked, opened and restored with
// the tools that work on any store.

#include <filesystem>
#include <string>

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

/// Reads the backup file without changing it: SQLite's integrity check and
/// its schema version. A file that is no SQLite database fails naming it.
[[nodiscard]] Result<BackupFileCheck> check_backup_file(const std::filesystem::path& file);

}  // namespace ck::store
