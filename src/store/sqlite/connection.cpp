#include "store/sqlite/connection.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace ck::store::sqlite {

Statement& Statement::bind(int index, std::int64_t value) {
  ::sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  ::sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  ::sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_blob_no_copy(int index, std::string_view bytes) {
  ::sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC);
  return *this;
}

Statement& Statement::bind_null(int index) {
  ::sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::step() {
  const int rc = ::sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  conn_->note_failed_statement();
  return fail(conn_->error("query", rc));
}

Status Statement::run() {
  for (;;) {
    CK_ASSIGN(const bool row, step());
    if (!row) {
      return {};
    }
  }
}

std::int64_t Statement::int64(int col) const {
  return ::sqlite3_column_int64(stmt_, col);
}

std::string Statement::text(int col) const {
  const auto* p = ::sqlite3_column_text(stmt_, col);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p),
                                    static_cast<std::size_t>(::sqlite3_column_bytes(stmt_, col)));
}

std::string_view Statement::text_view(int col) const {
  const auto* p = ::sqlite3_column_text(stmt_, col);
  return p == nullptr
             ? std::string_view()
             : std::string_view(reinterpret_cast<const char*>(p),
                                static_cast<std::size_t>(::sqlite3_column_bytes(stmt_, col)));
}

std::string Statement::blob(int col) const {
  return std::string(blob_view(col));
}

std::string_view Statement::blob_view(int col) const {
  const void* p = ::sqlite3_column_blob(stmt_, col);
  return p == nullptr
             ? std::string_view()
             : std::string_view(static_cast<const char*>(p),
                                static_cast<std::size_t>(::sqlite3_column_bytes(stmt_, col)));
}

bool Statement::is_null(int col) const {
  return ::sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, bool create) {
  // The database file is never opened and closed outside SQLite once it
  // exists: closing any descriptor of a file drops every POSIX lock this
  // process holds on it, those of its other connections included (serve
  // keeps several), and another process may then checkpoint and delete the
  // WAL under them; they go on reading a stale one. Existence and access are
  // checked by name; only a file about to be created is opened, to make it
  // 0600 from the first byte (SQLite gives its -wal and -shm the same mode).
  if (::access(path.c_str(), F_OK) != 0) {
    if (errno != ENOENT) {
      return fail(Code::Storage, "cannot open database '" + path + "': " + std::strerror(errno));
    }
    if (!create) {
      return fail(Code::NotFound, "database '" + path + "' does not exist");
    }
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0600);
    if (fd < 0 && errno != EEXIST) {
      return fail(errno == EACCES ? Code::PermissionDenied : Code::Storage,
                  "cannot open database '" + path + "': " + std::strerror(errno));
    }
    if (fd >= 0)
      ::close(fd);
  }
  if (::access(path.c_str(), R_OK | W_OK) != 0) {
    return fail(errno == EACCES ? Code::PermissionDenied : Code::Storage,
                "cannot open database '" + path + "': " + std::strerror(errno));
  }
  sqlite3* db = nullptr;
  const int rc =
      ::sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? ::sqlite3_errmsg(db) : ::sqlite3_errstr(rc);
    ::sqlite3_close_v2(db);
    return fail(Code::Storage, "cannot open database '" + path + "': " + msg);
  }
  auto conn = std::unique_ptr<Connection>(new Connection(db, path));
  // Another certkeeper holding the write lock makes us wait, not fail.
  ::sqlite3_busy_timeout(db, 60'000);
  ::sqlite3_extended_result_codes(db, 1);
  // Leave the WAL for the next automatic checkpoint instead of folding it
  // into the database at every exit: a short-lived CLI would otherwise pay a
  // checkpoint and two fsyncs per run. The WAL is durable either way.
  ::sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) {
    ::sqlite3_finalize(stmt);
  }
  ::sqlite3_close_v2(db_);
}

void Connection::reset_all() {
  for (auto& [sql, stmt] : cache_) {
    ::sqlite3_reset(stmt);
  }
}

Status Connection::exec(const char* sql) {
  char* err = nullptr;
  const int rc = ::sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  ::sqlite3_free(err);
  if (rc != SQLITE_OK) {
    return fail(error("query", rc));
  }
  return {};
}

Status Connection::commit_transaction() {
  if (failed_) {
    return fail(Code::Storage, "database '" + path_ +
                                   "': a statement of this transaction failed; nothing of it "
                                   "was committed");
  }
  reset_all();
  return exec("COMMIT");
}

Result<Statement> Connection::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = ::sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return fail(error("prepare", rc));
    }
    it = cache_.emplace(sql, stmt).first;
  } else {
    ::sqlite3_reset(it->second);
    ::sqlite3_clear_bindings(it->second);
  }
  return Statement(*this, *it->second);
}

Error Connection::error(std::string_view what, int rc) const {
  const int primary = rc & 0xff;
  const std::string msg = ::sqlite3_errmsg(db_);
  switch (primary) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Error{Code::Storage,
                   "database '" + path_ + "' is not a valid certkeeper database (" + msg + ")",
                   std::string(what)};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error{Code::Unavailable,
                   "database '" + path_ + "' is busy (another certkeeper holds it): " + msg,
                   std::string(what)};
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Error{Code::PermissionDenied, "cannot write database '" + path_ + "': " + msg,
                   std::string(what)};
    case SQLITE_FULL:
    case SQLITE_IOERR: {
      // SQLite says "disk I/O error" for a write that hit a full disk; the
      // system's reason tells the operator what to fix.
      const int sys = ::sqlite3_system_errno(db_);
      return Error{Code::Storage,
                   "database '" + path_ + "': " + msg +
                       (sys != 0 ? std::string(" (") + std::strerror(sys) + ")" : std::string()),
                   std::string(what)};
    }
    case SQLITE_CONSTRAINT:
      return Error{Code::AlreadyExists, "database '" + path_ + "': " + msg, std::string(what)};
    default:
      return Error{Code::Storage, "database '" + path_ + "': " + msg, std::string(what)};
  }
}

}  // namespace ck::store::sqlite
