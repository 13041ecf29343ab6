#pragma once

#include <memory>
#include <string>

#include "store/postgres/connection.h"
#include "store/store.h"

namespace ck::store::postgres {

/// A store a team shares: one PostgreSQL database (issue 21). The schema is
/// applied by `certkeeper store migrate` (migrate()), never implicitly by
/// another command: opening refuses a database not migrated yet or migrated
/// by a newer certkeeper.
///
/// Transactions: a write transaction takes a transaction-scoped advisory
/// lock when it begins, so writers run one at a time exactly as on SQLite
/// (BEGIN IMMEDIATE), in READ COMMITTED: each statement sees every commit
/// before the lock was granted, no write is lost, no serialization failure
/// can occur, and the CRL counter row (UPDATE ... RETURNING) hands out
/// numbers in commit order. A read transaction is one REPEATABLE READ READ
/// ONLY snapshot and takes no lock. A wait longer than lock_timeout (60 s)
/// ends with "busy (another certkeeper holds it)".
class PostgresStore final : public Store {
 public:
  [[nodiscard]] static Result<std::unique_ptr<PostgresStore>> open(const std::string& url,
                                                                   OpenMode mode);
  /// Applies every migration this build has and the database lacks, each in
  /// its own transaction with its version, under an advisory lock (two
  /// hosts upgrading at once apply each step once). Returns the schema
  /// version before and after.
  [[nodiscard]] static Result<std::pair<int, int>> migrate(const std::string& url);
  /// Schema version this build writes.
  static int schema_version();

  [[nodiscard]] Result<std::unique_ptr<Tx>> read() override;
  [[nodiscard]] Result<std::unique_ptr<Tx>> write() override;
  [[nodiscard]] Result<std::unique_ptr<TableAccess>> tables(bool write) override;
  [[nodiscard]] std::string describe() const override { return conn_->describe(); }
  /// counters.changes: every write transaction raises it before it commits.
  [[nodiscard]] Result<std::optional<std::int64_t>> change_stamp() override;

 private:
  explicit PostgresStore(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}
  std::unique_ptr<Connection> conn_;
};

}  // namespace ck::store::postgres
