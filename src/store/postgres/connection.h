#pragma once
// Thin RAII over libpq: one connection, statements prepared once per SQL
// text, parameters bound like store/sqlite's (1-based, `$1` in the SQL),
// results read in binary, and errors that name the server (never the
// password: the URL is shown without it).

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace ck::store::postgres {

class Connection;

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { ::PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

/// One execution of a prepared statement. Rows come all at once, or one at a
/// time with `stream()` (libpq's single-row mode: a million-row CRL scan is
/// never held in memory).
class Statement {
 public:
  Statement(Connection& conn, const char* sql) : conn_(&conn), sql_(sql) {}
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind_bool(int index, bool value);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);
  template <class T>
  Statement& bind_opt(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  Statement& bind_blob_opt(int index, const std::optional<std::string>& value) {
    return value ? bind_blob(index, *value) : bind_null(index);
  }
  /// Rows one at a time (call before the first step()).
  Statement& stream() {
    stream_ = true;
    return *this;
  }

  /// Advances; true when a row is available, false when done.
  [[nodiscard]] Result<bool> step();
  /// Runs a statement, discarding any rows.
  [[nodiscard]] Status run();
  /// Rows the statement changed (INSERT/UPDATE/DELETE), after run().
  [[nodiscard]] std::int64_t changes() const { return changes_; }

  [[nodiscard]] std::int64_t int64(int col) const;
  [[nodiscard]] bool boolean(int col) const { return int64(col) != 0; }
  [[nodiscard]] std::string text(int col) const { return std::string(text_view(col)); }
  [[nodiscard]] std::string_view text_view(int col) const;
  [[nodiscard]] std::string blob(int col) const { return std::string(blob_view(col)); }
  [[nodiscard]] std::string_view blob_view(int col) const { return text_view(col); }
  [[nodiscard]] bool is_null(int col) const;

 private:
  struct Param {
    std::string value;
    bool null = true;
    bool binary = false;
    unsigned type = 0;  // an Oid: 0 lets the server infer it
  };
  Param& param(int index);
  Status start();
  void drain() noexcept;

  Connection* conn_;
  const char* sql_;
  std::vector<Param> params_;
  bool stream_ = false;
  std::string cursor_;
  bool started_ = false;
  bool done_ = false;
  ResultPtr result_;
  int row_ = -1;
  std::int64_t changes_ = 0;
};

class Connection {
 public:
  /// Connects to `url` (a libpq URI: postgresql://user@host:port/db?...).
  /// A password in the URL is refused: it would sit in argv and the
  /// environment; libpq reads it from `passfile=` or PGPASSFILE instead.
  [[nodiscard]] static Result<std::unique_ptr<Connection>> open(const std::string& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs SQL without parameters (several statements are fine).
  [[nodiscard]] Status exec(const char* sql);
  [[nodiscard]] Statement prepare(const char* sql) { return Statement(*this, sql); }
  /// The server's message for `res` (or the connection's), as a store error:
  /// busy/deadlock/serialization/lock-timeout as Code::Unavailable.
  [[nodiscard]] Error error(std::string_view what, const PGresult* res) const;
  [[nodiscard]] const std::string& describe() const { return shown_; }
  [[nodiscard]] PGconn* raw() { return conn_; }
  /// The name of `sql`'s prepared statement, preparing it on first use with
  /// the parameter types of this first execution.
  [[nodiscard]] Result<std::string> prepared(const char* sql, int n_params, const unsigned* types);
  /// A cursor name not used before on this connection.
  [[nodiscard]] std::string next_cursor() { return "ck_stream" + std::to_string(++cursors_); }

 private:
  Connection(PGconn* conn, std::string shown) : conn_(conn), shown_(std::move(shown)) {}
  PGconn* conn_;
  std::string shown_;  // "postgresql://ck@db:5432/certkeeper", no password
  std::unordered_map<const char*, std::string> prepared_;
  std::uint64_t cursors_ = 0;
};

/// The URL as it may be shown: without a password and without query
/// parameters other than the host/port/db parts.
[[nodiscard]] std::string shown_url(std::string_view url);

}  // namespace ck::store::postgres
