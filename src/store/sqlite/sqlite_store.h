#pragma once

#include <memory>
#include <string>

#include "store/sqlite/connection.h"
#include "store/store.h"

namespace ck::store::sqlite {

/// The embedded default store: one SQLite file in WAL mode with foreign keys
/// on and synchronous=FULL, migrated to the current schema when opened.
class SqliteStore final : public Store {
 public:
  [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                                 OpenMode mode);

  [[nodiscard]] Result<std::unique_ptr<Tx>> read() override;
  [[nodiscard]] Result<std::unique_ptr<Tx>> write() override;
  [[nodiscard]] Result<std::unique_ptr<TableAccess>> tables(bool write) override;
  [[nodiscard]] std::string describe() const override { return "sqlite:" + conn_->path(); }

  /// Schema version this build writes.
  static int schema_version();
  /// The schema version of the database at `path` (0: none there yet),
  /// read without changing it.
  [[nodiscard]] static Result<int> version_of(const std::string& path);
  /// SQLite's integrity check of the database at `path` ("ok", or the first
  /// problems it names), without changing it; a file that is no database
  /// fails naming it.
  [[nodiscard]] static Result<std::string> integrity_of(const std::string& path);
  /// Makes the database at `path` one self-contained file: its WAL folded
  /// in and the journal mode set back to DELETE (a backup copied or moved
  /// alone loses nothing). Opening it as a store turns WAL on again.
  [[nodiscard]] static Status make_standalone(const std::string& path);

 private:
  explicit SqliteStore(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}
  [[nodiscard]] Status migrate();
  /// True when the database holds neither a CA nor a server certificate (a
  /// new or empty file, or one nothing was ever stored in).
  [[nodiscard]] Result<bool> is_blank();
  /// After migrating an existing store to schema 8: releases that the last
  /// CRL lists get a sequence before it.
  [[nodiscard]] Status settle_migrated_release_seq();
  std::unique_ptr<Connection> conn_;
};

}  // namespace ck::store::sqlite
