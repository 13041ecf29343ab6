#include "store/backup.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "core/fault.h"
#include "core/file_io.h"
#include "store/sqlite/sqlite_store.h"

namespace ck::store {

namespace {

// The temporary file of a backup whose process died before naming it
// (".NAME.tmp-PID", with its -wal and -shm): removed by the next backup to
// the same name. A running backup's is left alone.
void remove_dead_temps(const std::filesystem::path& dir, const std::string& name) {
  const std::string prefix = "." + name + ".tmp-";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string f = entry.path().filename().string();
    if (f.rfind(prefix, 0) != 0)
      continue;
    const std::string rest = f.substr(prefix.size());
    const auto digits = rest.find_first_not_of("0123456789");
    if (digits == 0 || rest.empty())
      continue;
    const long pid = std::stol(rest.substr(0, digits));
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      std::filesystem::remove(entry.path(), ec);
  }
}

void remove_sqlite_files(const std::filesystem::path& file) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    std::filesystem::remove(file.string() + suffix, ec);
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
  remove_dead_temps(dir, file.filename().string());
  const auto temp = dir / ("." + file.filename().string() + ".tmp-" + std::to_string(::getpid()));
  remove_sqlite_files(temp);
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
    CK_TRY(fsync_file(temp));
    CK_FAULT_POINT("backup.before_link");
    // link() fails when `file` appeared meanwhile: never over another file.
    if (::link(temp.c_str(), file.c_str()) != 0)
      return fail(Code::AlreadyExists,
                  "backup file '" + file.string() +
                      "' cannot be made (it appeared meanwhile, or the folder refuses it)");
    std::filesystem::remove(temp, ec);
    sync_dir(dir);
    out.file = file;
    return out;
  }();
  if (!written)
    remove_sqlite_files(temp);
  return written;
}

Result<BackupFileCheck> check_backup_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    return fail(Code::NotFound, "backup file '" + file.string() + "' does not exist");
  BackupFileCheck check;
  CK_ASSIGN(check.integrity, sqlite::SqliteStore::integrity_of(file.string()));
  CK_ASSIGN(check.schema, sqlite::SqliteStore::version_of(file.string()));
  check.current_schema = sqlite::SqliteStore::schema_version();
  return check;
}

}  // namespace ck::store
