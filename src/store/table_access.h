#pragma once
// Raw access to a store's tables, for `certkeeper store copy` only: every
// other command goes through the capability interfaces of store.h. A copy
// must move every row of every table, including the ones no capability lists
// whole (counters, audit, leases), so it works below them, on rows.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace ck::store {

/// A value as both backends hold it: SQLite's storage classes, into which
/// PostgreSQL's BIGINT/INTEGER/SMALLINT/BOOLEAN, TEXT and BYTEA map.
struct Cell {
  enum class Kind { Null, Integer, Text, Bytes };
  Kind kind = Kind::Null;
  std::int64_t integer = 0;
  std::string bytes;  // Text and Bytes
};

/// What a column holds on a backend. Boolean is an Integer on SQLite.
enum class ColumnType { Integer, Boolean, Text, Bytes };

struct Column {
  std::string name;
  ColumnType type = ColumnType::Text;
};

/// `name` as an SQL identifier in double quotes (a quote inside doubled), the
/// same on SQLite and PostgreSQL: the names come from the catalog, never from
/// a user, and are quoted anyway so a name is only ever a name.
[[nodiscard]] std::string quoted_identifier(std::string_view name);

[[nodiscard]] std::string_view to_string(ColumnType type);
[[nodiscard]] std::string_view to_string(Cell::Kind kind);

/// One transaction over the raw tables: a consistent snapshot for reading,
/// or the writer's lock for loading.
class TableAccess {
 public:
  virtual ~TableAccess() = default;
  /// The certkeeper tables of this store (not the migration bookkeeping).
  [[nodiscard]] virtual Result<std::vector<std::string>> tables() = 0;
  /// `table`'s columns in their declared order.
  [[nodiscard]] virtual Result<std::vector<Column>> columns(std::string_view table) = 0;
  [[nodiscard]] virtual Result<std::int64_t> count(std::string_view table) = 0;
  /// Every row of `table`, `cols` in that order, in the order the rows were
  /// inserted where the backend keeps it (SQLite's rowid; on PostgreSQL the
  /// table's identity column, else its primary key), so a copy inserted in
  /// this order lists the same way.
  [[nodiscard]] virtual Status scan(std::string_view table, const std::vector<Column>& cols,
                                    const std::function<Status(const std::vector<Cell>&)>& fn) = 0;
  /// Appends one row (values converted to `cols`' types by the caller).
  /// Rows may be buffered until finish_table().
  [[nodiscard]] virtual Status insert(std::string_view table, const std::vector<Column>& cols,
                                      const std::vector<Cell>& row) = 0;
  /// After the last row of `table`: writes what is buffered; identity
  /// columns continue after the largest value copied.
  [[nodiscard]] virtual Status finish_table(std::string_view table) = 0;
  /// Sets counter `name` (counters table); false when this store has none
  /// by that name.
  [[nodiscard]] virtual Result<bool> set_counter(std::string_view name, std::int64_t value) = 0;
  [[nodiscard]] virtual Status commit() = 0;
};

}  // namespace ck::store
