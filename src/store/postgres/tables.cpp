#include "store/postgres/tables.h"

#include <string>
#include <utility>

#include "store/postgres/transaction.h"

namespace ck::store::postgres {
namespace {

// COPY's text format is sent in pieces of about this size.
constexpr std::size_t kCopyChunk = 1 << 20;

std::string column_list(const std::vector<Column>& cols) {
  std::string out;
  for (const auto& c : cols) {
    if (!out.empty())
      out += ", ";
    out += quoted_identifier(c.name);
  }
  return out;
}

// One value in COPY's text format (the PostgreSQL manual, COPY, "Text Format").
void append_copy_text(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
}

void append_copy_bytes(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\\\x";  // bytea's hex input form, its backslash escaped for COPY
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
}

class PostgresTables final : public TableAccess {
 public:
  PostgresTables(Connection& conn, bool write) : conn_(conn), write_(write) {}
  ~PostgresTables() override {
    if (copying_)
      (void)::PQputCopyEnd(conn_.raw(), "store copy abandoned");
    if (open_) {
      ResultPtr drained(::PQgetResult(conn_.raw()));
      while (drained)
        drained.reset(::PQgetResult(conn_.raw()));
      (void)conn_.exec("ROLLBACK");
    }
  }

  Status begin() {
    open_ = true;
    auto begun = begin_transaction(conn_, write_);
    if (!begun && ::PQtransactionStatus(conn_.raw()) == PQTRANS_IDLE)
      open_ = false;
    return begun;
  }

  Result<std::vector<std::string>> tables() override {
    auto st = conn_.prepare(
        "SELECT table_name::text FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        " AND table_name <> 'schema_migrations' ORDER BY table_name");
    std::vector<std::string> out;
    for (;;) {
      CK_ASSIGN(const bool row, st.step());
      if (!row)
        return out;
      out.push_back(st.text(0));
    }
  }

  Result<std::vector<Column>> columns(std::string_view table) override {
    auto st = conn_.prepare(
        "SELECT column_name::text, data_type::text FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position");
    st.bind(1, table);
    std::vector<Column> out;
    for (;;) {
      CK_ASSIGN(const bool row, st.step());
      if (!row)
        return out;
      Column c{st.text(0), ColumnType::Text};
      const std::string type = st.text(1);
      if (type == "bigint" || type == "integer" || type == "smallint") {
        c.type = ColumnType::Integer;
      } else if (type == "boolean") {
        c.type = ColumnType::Boolean;
      } else if (type == "bytea") {
        c.type = ColumnType::Bytes;
      } else if (type != "text") {
        return fail(Code::Storage, "database " + conn_.describe() + ": column " +
                                       std::string(table) + "." + c.name + " has type " + type +
                                       ", which store copy does not know");
      }
      out.push_back(std::move(c));
    }
  }

  Result<std::int64_t> count(std::string_view table) override {
    const std::string sql = "SELECT count(*) FROM " + quoted_identifier(table);
    // A cursor: statements built at run time never enter the connection's
    // cache of prepared statements (keyed by the SQL's address).
    Statement st(conn_, sql.c_str());
    st.stream();
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return fail(Code::Storage, "count of " + std::string(table) + " returned no row");
    return st.int64(0);
  }

  Status scan(std::string_view table, const std::vector<Column>& cols,
              const std::function<Status(const std::vector<Cell>&)>& fn) override {
    CK_ASSIGN(const auto order, order_of(table));
    const std::string sql = "SELECT " + column_list(cols) + " FROM " + quoted_identifier(table) +
                            (order.empty() ? "" : " ORDER BY " + order);
    Statement st(conn_, sql.c_str());
    st.stream();
    std::vector<Cell> row(cols.size());
    for (;;) {
      CK_ASSIGN(const bool more, st.step());
      if (!more)
        return {};
      for (std::size_t i = 0; i < cols.size(); ++i) {
        const int col = static_cast<int>(i);
        Cell& cell = row[i];
        if (st.is_null(col)) {
          cell.kind = Cell::Kind::Null;
          continue;
        }
        switch (cols[i].type) {
          case ColumnType::Integer:
          case ColumnType::Boolean:
            cell.kind = Cell::Kind::Integer;
            cell.integer = st.int64(col);
            break;
          case ColumnType::Text:
            cell.kind = Cell::Kind::Text;
            cell.bytes.assign(st.text_view(col));
            break;
          case ColumnType::Bytes:
            cell.kind = Cell::Kind::Bytes;
            cell.bytes.assign(st.blob_view(col));
            break;
        }
      }
      CK_TRY(fn(row));
    }
  }

  Status insert(std::string_view table, const std::vector<Column>& cols,
                const std::vector<Cell>& row) override {
    if (!copying_) {
      // COPY writes identity columns as given (no OVERRIDING needed), and
      // checks every constraint as INSERT does.
      const std::string sql =
          "COPY " + quoted_identifier(table) + " (" + column_list(cols) + ") FROM STDIN";
      ResultPtr res(::PQexec(conn_.raw(), sql.c_str()));
      if (::PQresultStatus(res.get()) != PGRES_COPY_IN)
        return fail(conn_.error("copy into " + std::string(table), res.get()));
      copying_ = true;
    }
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0)
        buffer_ += '\t';
      const Cell& cell = row[i];
      switch (cell.kind) {
        case Cell::Kind::Null:
          buffer_ += "\\N";
          break;
        case Cell::Kind::Integer:
          if (cols[i].type == ColumnType::Boolean)
            buffer_ += cell.integer != 0 ? 't' : 'f';
          else
            buffer_ += std::to_string(cell.integer);
          break;
        case Cell::Kind::Text:
          append_copy_text(buffer_, cell.bytes);
          break;
        case Cell::Kind::Bytes:
          append_copy_bytes(buffer_, cell.bytes);
          break;
      }
    }
    buffer_ += '\n';
    if (buffer_.size() >= kCopyChunk)
      return send(table);
    return {};
  }

  Status finish_table(std::string_view table) override {
    if (copying_) {
      CK_TRY(send(table));
      copying_ = false;
      if (::PQputCopyEnd(conn_.raw(), nullptr) != 1)
        return fail(conn_.error("copy into " + std::string(table), nullptr));
      ResultPtr res(::PQgetResult(conn_.raw()));
      const bool ok = ::PQresultStatus(res.get()) == PGRES_COMMAND_OK;
      Error err = ok ? Error{} : conn_.error("copy into " + std::string(table), res.get());
      while (res)
        res.reset(::PQgetResult(conn_.raw()));
      if (!ok)
        return fail(std::move(err));
    }
    // An identity column continues after the largest value copied, so the
    // next row a command inserts does not collide with a copied one.
    auto st = conn_.prepare(
        "SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = $1::regclass"
        " AND a.attidentity <> '' AND NOT a.attisdropped");
    st.bind(1, quoted_identifier(table));
    std::vector<std::string> identity;
    for (;;) {
      CK_ASSIGN(const bool row, st.step());
      if (!row)
        break;
      identity.push_back(st.text(0));
    }
    for (const auto& col : identity) {
      const std::string sql = "SELECT setval(pg_get_serial_sequence('" + quoted_identifier(table) +
                              "', '" + col + "'), coalesce(max(" + quoted_identifier(col) +
                              "), 0) + 1, false) FROM " + quoted_identifier(table);
      CK_TRY(conn_.exec(sql.c_str()));
    }
    return {};
  }

  Result<bool> set_counter(std::string_view name, std::int64_t value) override {
    auto st = conn_.prepare("UPDATE counters SET value = $1 WHERE name = $2");
    st.bind(1, value).bind(2, name);
    CK_TRY(st.run());
    return st.changes() > 0;
  }

  Status commit() override {
    auto committed = commit_transaction(conn_, write_);
    if (committed || ::PQtransactionStatus(conn_.raw()) == PQTRANS_IDLE)
      open_ = false;
    return committed;
  }

 private:
  // Insertion order: the identity column, else the primary key.
  Result<std::string> order_of(std::string_view table) {
    auto st = conn_.prepare(
        "SELECT a.attname::text, a.attidentity <> '' FROM pg_attribute a"
        " LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary"
        " WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped"
        " AND (a.attidentity <> '' OR a.attnum = ANY (i.indkey::int2[]))"
        " ORDER BY a.attidentity <> '' DESC,"
        " array_position(i.indkey::int2[], a.attnum)");
    st.bind(1, quoted_identifier(table));
    std::string order;
    for (;;) {
      CK_ASSIGN(const bool row, st.step());
      if (!row)
        return order;
      if (st.boolean(1))
        return quoted_identifier(st.text(0));  // the identity alone
      if (!order.empty())
        order += ", ";
      order += quoted_identifier(st.text(0));
    }
  }

  Status send(std::string_view table) {
    if (buffer_.empty())
      return {};
    if (::PQputCopyData(conn_.raw(), buffer_.data(), static_cast<int>(buffer_.size())) != 1)
      return fail(conn_.error("copy into " + std::string(table), nullptr));
    buffer_.clear();
    return {};
  }

  Connection& conn_;
  bool write_;
  bool open_ = false;
  bool copying_ = false;
  std::string buffer_;
};

}  // namespace

Result<std::unique_ptr<TableAccess>> open_tables(Connection& conn, bool write) {
  auto tables = std::make_unique<PostgresTables>(conn, write);
  CK_TRY(tables->begin());
  return std::unique_ptr<TableAccess>(std::move(tables));
}

}  // namespace ck::store::postgres
