#include "store/sqlite/tables.h"

#include <string>
#include <unordered_map>
#include <utility>

namespace ck::store::sqlite {
namespace {

struct Finalize {
  void operator()(sqlite3_stmt* st) const noexcept { ::sqlite3_finalize(st); }
};
using OwnedStatement = std::unique_ptr<sqlite3_stmt, Finalize>;

// SQLite's type affinity rules (datatype3.html, 3.1), for the types the
// migrations declare; a boolean is an INTEGER column.
ColumnType type_of(std::string declared) {
  for (auto& c : declared)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (declared.find("INT") != std::string::npos)
    return ColumnType::Integer;
  if (declared.find("BLOB") != std::string::npos || declared.empty())
    return ColumnType::Bytes;
  return ColumnType::Text;
}

class SqliteTables final : public TableAccess {
 public:
  SqliteTables(Connection& conn, bool write) : conn_(conn), write_(write) {}
  ~SqliteTables() override {
    inserts_.clear();
    if (open_) {
      conn_.reset_all();
      (void)conn_.exec("ROLLBACK");
    }
  }

  Status begin() {
    CK_TRY(conn_.exec(write_ ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
    conn_.clear_failed_statement();
    open_ = true;
    // Rows are inserted one statement each, and a certificate names the one
    // that superseded it, inserted after it: foreign keys are checked at
    // COMMIT instead (the pragma ends with the transaction). PostgreSQL's
    // COPY checks them at the end of its one statement.
    if (write_)
      CK_TRY(conn_.exec("PRAGMA defer_foreign_keys = ON"));
    return {};
  }

  Result<std::vector<std::string>> tables() override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT name FROM sqlite_master WHERE type = 'table'"
                                     " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"));
    std::vector<std::string> out;
    for (;;) {
      CK_ASSIGN(const bool row, st.step());
      if (!row)
        return out;
      out.push_back(st.text(0));
    }
  }

  Result<std::vector<Column>> columns(std::string_view table) override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT name, type FROM pragma_table_info(?) ORDER BY cid"));
    st.bind(1, table);
    std::vector<Column> out;
    for (;;) {
      CK_ASSIGN(const bool row, st.step());
      if (!row)
        return out;
      out.push_back(Column{st.text(0), type_of(st.text(1))});
    }
  }

  Result<std::int64_t> count(std::string_view table) override {
    CK_ASSIGN(auto st, compile("SELECT count(*) FROM " + quoted_identifier(table)));
    CK_ASSIGN(const bool row, step(st.get()));
    if (!row)
      return fail(Code::Storage, "count of " + std::string(table) + " returned no row");
    return ::sqlite3_column_int64(st.get(), 0);
  }

  Status scan(std::string_view table, const std::vector<Column>& cols,
              const std::function<Status(const std::vector<Cell>&)>& fn) override {
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < cols.size(); ++i)
      sql += (i > 0 ? ", " : "") + quoted_identifier(cols[i].name);
    CK_ASSIGN(const auto order, order_of(table));
    sql += " FROM " + quoted_identifier(table) + " ORDER BY " + order;
    CK_ASSIGN(auto st, compile(sql));
    std::vector<Cell> row(cols.size());
    for (;;) {
      CK_ASSIGN(const bool more, step(st.get()));
      if (!more)
        return {};
      for (std::size_t i = 0; i < cols.size(); ++i) {
        const int col = static_cast<int>(i);
        Cell& cell = row[i];
        switch (::sqlite3_column_type(st.get(), col)) {
          case SQLITE_NULL:
            cell.kind = Cell::Kind::Null;
            break;
          case SQLITE_INTEGER:
            cell.kind = Cell::Kind::Integer;
            cell.integer = ::sqlite3_column_int64(st.get(), col);
            break;
          case SQLITE_BLOB: {
            cell.kind = Cell::Kind::Bytes;
            const void* p = ::sqlite3_column_blob(st.get(), col);
            cell.bytes.assign(static_cast<const char*>(p),
                              static_cast<std::size_t>(::sqlite3_column_bytes(st.get(), col)));
            break;
          }
          case SQLITE_TEXT: {
            cell.kind = Cell::Kind::Text;
            const unsigned char* p = ::sqlite3_column_text(st.get(), col);
            cell.bytes.assign(reinterpret_cast<const char*>(p),
                              static_cast<std::size_t>(::sqlite3_column_bytes(st.get(), col)));
            break;
          }
          default:  // SQLITE_FLOAT: no certkeeper column holds one
            return fail(Code::Storage, "database '" + conn_.path() + "': " + std::string(table) +
                                           "." + cols[i].name + " holds a floating-point value");
        }
      }
      CK_TRY(fn(row));
    }
  }

  Status insert(std::string_view table, const std::vector<Column>& cols,
                const std::vector<Cell>& row) override {
    auto it = inserts_.find(std::string(table));
    if (it == inserts_.end()) {
      std::string names;
      std::string marks;
      for (std::size_t i = 0; i < cols.size(); ++i) {
        names += (i > 0 ? ", " : "") + quoted_identifier(cols[i].name);
        marks += i > 0 ? ", ?" : "?";
      }
      CK_ASSIGN(auto st, compile("INSERT INTO " + quoted_identifier(table) + " (" + names +
                                 ") VALUES (" + marks + ")"));
      it = inserts_.emplace(std::string(table), std::move(st)).first;
    }
    sqlite3_stmt* st = it->second.get();
    ::sqlite3_reset(st);
    for (std::size_t i = 0; i < row.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const Cell& cell = row[i];
      switch (cell.kind) {
        case Cell::Kind::Null:
          ::sqlite3_bind_null(st, index);
          break;
        case Cell::Kind::Integer:
          ::sqlite3_bind_int64(st, index, cell.integer);
          break;
        case Cell::Kind::Text:
          ::sqlite3_bind_text64(st, index, cell.bytes.data(), cell.bytes.size(), SQLITE_STATIC,
                                SQLITE_UTF8);
          break;
        case Cell::Kind::Bytes:
          ::sqlite3_bind_blob64(st, index, cell.bytes.data(), cell.bytes.size(), SQLITE_STATIC);
          break;
      }
    }
    CK_TRY(step(st));
    ::sqlite3_clear_bindings(st);  // the bound values were borrowed
    return {};
  }

  Status finish_table(std::string_view table) override {
    // Rows were written as they came; an INTEGER PRIMARY KEY continues after
    // the largest anyway.
    inserts_.erase(std::string(table));
    return {};
  }

  Result<bool> set_counter(std::string_view name, std::int64_t value) override {
    CK_ASSIGN(auto st, conn_.prepare("UPDATE counters SET value = ? WHERE name = ?"));
    st.bind(1, value).bind(2, name);
    CK_TRY(st.run());
    return conn_.changes() > 0;
  }

  Status commit() override {
    inserts_.clear();
    CK_TRY(conn_.commit_transaction());
    open_ = false;
    return {};
  }

 private:
  // The order rows were inserted in: the rowid; a table WITHOUT ROWID has
  // none and is listed by its primary key, as PostgreSQL lists such tables.
  Result<std::string> order_of(std::string_view table) {
    CK_ASSIGN(auto wr, conn_.prepare("SELECT wr FROM pragma_table_list WHERE name = ?"));
    wr.bind(1, table);
    CK_ASSIGN(const bool found, wr.step());
    if (!found || wr.int64(0) == 0)
      return std::string("rowid");
    CK_ASSIGN(auto pk, conn_.prepare("SELECT name FROM pragma_table_info(?) WHERE pk > 0"
                                     " ORDER BY pk"));
    pk.bind(1, table);
    std::string order;
    for (;;) {
      CK_ASSIGN(const bool row, pk.step());
      if (!row)
        return order;
      order += (order.empty() ? "" : ", ") + quoted_identifier(pk.text(0));
    }
  }

  Result<OwnedStatement> compile(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    const int rc = ::sqlite3_prepare_v2(conn_.raw(), sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK)
      return fail(conn_.error("prepare", rc));
    return OwnedStatement(st);
  }

  Result<bool> step(sqlite3_stmt* st) {
    const int rc = ::sqlite3_step(st);
    if (rc == SQLITE_ROW)
      return true;
    if (rc == SQLITE_DONE)
      return false;
    conn_.note_failed_statement();
    return fail(conn_.error("query", rc));
  }

  Connection& conn_;
  bool write_;
  bool open_ = false;
  std::unordered_map<std::string, OwnedStatement> inserts_;
};

}  // namespace

Result<std::unique_ptr<TableAccess>> open_tables(Connection& conn, bool write) {
  auto tables = std::make_unique<SqliteTables>(conn, write);
  CK_TRY(tables->begin());
  return std::unique_ptr<TableAccess>(std::move(tables));
}

}  // namespace ck::store::sqlite
