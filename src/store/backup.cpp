#include "store/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/fault.h"
#include "core/file_io.h"
#include "store/sqlite/sqlite_store.h"

namespace ck::store {

namespace {

// The work folder of a backup whose process died before naming its file
// (".NAME.tmp-PID-XXXXXX"): removed by the next backup to the same name. A
// running backup's is left alone.
void remove_dead_work_dirs(const std::filesystem::path& dir, const std::string& name) {
  const std::string prefix = "." + name + ".tmp-";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string f = entry.path().filename().string();
    if (f.rfind(prefix, 0) != 0)
      continue;
    const std::string rest = f.substr(prefix.size());
    const auto digits = rest.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string::npos || digits > 9)
      continue;
    const long pid = std::strtol(rest.substr(0, digits).c_str(), nullptr, 10);
    if (process_gone(static_cast<pid_t>(pid)))
      std::filesystem::remove_all(entry.path(), ec);
  }
}

// A folder of this process's own beside `near` (mkdtemp: 0700, a name
// nobody could have made first), so no other user can plant a file the
// store (with the CA key) would be written into.
Result<std::filesystem::path> make_work_dir(const std::filesystem::path& near,
                                            const std::string& name) {
  std::string pattern =
      (near / ("." + name + ".tmp-" + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    return fail(Code::PermissionDenied,
                "cannot make a folder in '" + near.string() + "': " + std::strerror(errno));
  return std::filesystem::path(pattern);
}

Status fsync_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(Code::PermissionDenied, "cannot open '" + file.string() + "' to sync it");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0)
    return fail(Code::PermissionDenied, "cannot sync '" + file.string() + "'");
  return {};
}

}  // namespace

Result<BackupWritten> backup_store(Store& from, const std::filesystem::path& file,
                                   const CopyProgress& progress) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec) || std::filesystem::is_symlink(file, ec))
    return fail(Code::AlreadyExists,
                "backup file '" + file.string() +
                    "' exists: name a new file (a backup is never overwritten)");
  const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(dir, ec))
    return fail(Code::NotFound,
                "backup file '" + file.string() + "': no folder '" + dir.string() + "'");
  remove_dead_work_dirs(dir, file.filename().string());
  CK_ASSIGN(const auto work, make_work_dir(dir, file.filename().string()));
  const auto temp = work / "backup.db";
  auto written = [&]() -> Result<BackupWritten> {
    BackupWritten out;
    {
      // Made 0600 from its first byte; closed (the WAL folded back into the
      // file) before it is synced and named.
      CK_ASSIGN(auto dest, sqlite::SqliteStore::open(temp.string(), OpenMode::Create));
      CK_ASSIGN(out.copy, copy_store(from, *dest, progress));
    }
    CK_TRY(sqlite::SqliteStore::make_standalone(temp.string()));
    if (std::filesystem::exists(temp.string() + "-wal", ec))
      return fail(Code::Storage, "backup '" + temp.string() + "' was not closed cleanly");
    struct stat st {};
    if (::stat(temp.c_str(), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 07777) != 0600)
      return fail(Code::PermissionDenied,
                  "backup '" + temp.string() + "' is not a 0600 file of ours");
    CK_TRY(fsync_file(temp));
    CK_FAULT_POINT("backup.before_link");
    // link() fails when `file` appeared meanwhile: never over another file.
    if (::link(temp.c_str(), file.c_str()) != 0)
      return fail(Code::AlreadyExists,
                  "backup file '" + file.string() +
                      "' cannot be made (it appeared meanwhile, or the folder refuses it)");
    sync_dir(dir);
    out.file = file;
    return out;
  }();
  std::filesystem::remove_all(work, ec);
  return written;
}

PrivateCopy::~PrivateCopy() {
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Result<PrivateCopy> private_copy(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    return fail(Code::NotFound, "backup file '" + file.string() + "' does not exist");
  const auto tmp = std::filesystem::temp_directory_path(ec);
  CK_ASSIGN(auto dir, make_work_dir(ec ? std::filesystem::path("/tmp") : tmp, "certkeeper-verify"));
  PrivateCopy copy(dir, dir / "backup.db");
  std::filesystem::copy_file(file, copy.path(), ec);
  if (ec)
    return fail(Code::PermissionDenied,
                "cannot read backup file '" + file.string() + "': " + ec.message());
  std::filesystem::permissions(
      copy.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  return copy;
}

Result<BackupFileCheck> check_backup_file(const std::filesystem::path& file) {
  BackupFileCheck check;
  CK_ASSIGN(check.integrity, sqlite::SqliteStore::integrity_of(file.string()));
  CK_ASSIGN(check.schema, sqlite::SqliteStore::version_of(file.string()));
  check.current_schema = sqlite::SqliteStore::schema_version();
  return check;
}

}  // namespace ck::store
