#pragma once
// Thin RAII over the SQLite C API: one connection, cached prepared statements,
// and errors that name the database file.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.h"

namespace ck::store::sqlite {

class Connection;

/// A prepared statement borrowed from the connection's cache; reset on reuse.
class Statement {
 public:
  Statement(Connection& conn, sqlite3_stmt& stmt) : conn_(&conn), stmt_(&stmt) {}

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind_blob(int index, std::string_view bytes);
  /// Binds without copying: `bytes` must outlive the statement's next step.
  Statement& bind_blob_no_copy(int index, std::string_view bytes);
  Statement& bind_null(int index);
  template <class T>
  Statement& bind_opt(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  Statement& bind_blob_opt(int index, const std::optional<std::string>& value) {
    return value ? bind_blob(index, *value) : bind_null(index);
  }

  /// Advances; true when a row is available, false when done.
  [[nodiscard]] Result<bool> step();
  /// Runs a statement that returns no rows.
  [[nodiscard]] Status run();

  [[nodiscard]] std::int64_t int64(int col) const;
  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] std::string_view text_view(int col) const;
  [[nodiscard]] std::string blob(int col) const;
  [[nodiscard]] std::string_view blob_view(int col) const;
  [[nodiscard]] bool is_null(int col) const;

 private:
  Connection* conn_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  /// Opens the database file; with `create`, a missing one is made (0600),
  /// without it a missing file fails with Code::NotFound.
  [[nodiscard]] static Result<std::unique_ptr<Connection>> open(const std::string& path,
                                                                bool create);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[nodiscard]] Status exec(const char* sql);
  /// Resets every cached statement so none holds a lock past its transaction.
  void reset_all();
  /// The cached statement for `sql` (which must be a string literal), reset.
  [[nodiscard]] Result<Statement> prepare(const char* sql);
  [[nodiscard]] Error error(std::string_view what, int rc) const;
  [[nodiscard]] const std::string& path() const { return path_; }
  /// Whether a statement failed since the last clear: a transaction with a
  /// failed statement is not committed (PostgreSQL cannot, so no backend does).
  void note_failed_statement() { failed_ = true; }
  void clear_failed_statement() { failed_ = false; }
  [[nodiscard]] bool statement_failed() const { return failed_; }
  /// COMMIT, refused when a statement of the transaction failed (nothing of
  /// it is committed then; the caller's ROLLBACK ends it).
  [[nodiscard]] Status commit_transaction();
  [[nodiscard]] std::int64_t changes() const { return ::sqlite3_changes64(db_); }
  [[nodiscard]] std::int64_t last_insert_rowid() const { return ::sqlite3_last_insert_rowid(db_); }
  /// The handle, for statements built at run time (store copy), which the
  /// cache above must never hold: it is keyed by the SQL text's address.
  [[nodiscard]] sqlite3* raw() { return db_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
  bool failed_ = false;
};

}  // namespace ck::store::sqlite
