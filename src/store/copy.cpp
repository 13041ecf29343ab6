#include "store/copy.h"

#include <algorithm>
#include <array>
#include <utility>

namespace ck::store {
namespace {

struct TableSpec {
  const char* name;
  // A column each backend fills itself with the insertion order, so it is
  // not copied: rows are inserted in that order instead (PostgreSQL's
  // crl_canaries.seq; SQLite keeps the order as its rowid).
  const char* own_order_column = nullptr;
};

// Every table of the schema, parents before the rows that reference them.
// counters is not here: its rows exist in every store and are set, not
// inserted. A table missing from this list fails the copy (tables_known).
constexpr std::array kTables = {
    TableSpec{"ca"},
    TableSpec{"users"},
    TableSpec{"certificates"},
    TableSpec{"revocations"},
    TableSpec{"crls"},
    TableSpec{"audit"},
    TableSpec{"notifications"},
    TableSpec{"server_certs"},
    TableSpec{"acme_accounts"},
    TableSpec{"rollouts"},
    TableSpec{"rollout_steps"},
    TableSpec{"user_leases"},
    TableSpec{"crl_canaries", "seq"},
    TableSpec{"crl_enforcement"},
    TableSpec{"published_revocations"},
};
constexpr std::string_view kCounters = "counters";
// PostgreSQL's count of write transactions (serve polls it): a property of
// that database, not data; the destination raises its own on commit.
constexpr std::string_view kChangeCounter = "changes";
constexpr std::int64_t kProgressEvery = 10'000;

Status tables_known(TableAccess& side, const std::string& shown) {
  CK_ASSIGN(const auto names, side.tables());
  for (const auto& name : names) {
    const bool known =
        name == kCounters || std::any_of(kTables.begin(), kTables.end(),
                                         [&](const TableSpec& t) { return name == t.name; });
    if (!known) {
      return fail(Code::FailedPrecondition,
                  shown + " has a table '" + name +
                      "' this certkeeper does not know (a store of a newer certkeeper?): "
                      "nothing copied");
    }
  }
  for (const auto& t : kTables) {
    if (std::find(names.begin(), names.end(), t.name) == names.end())
      return fail(Code::FailedPrecondition, shown + " has no table '" + t.name + "'");
  }
  return {};
}

std::vector<Column> without(std::vector<Column> cols, const char* own_order) {
  if (own_order != nullptr) {
    cols.erase(std::remove_if(cols.begin(), cols.end(),
                              [&](const Column& c) { return c.name == own_order; }),
               cols.end());
  }
  return cols;
}

// The destination's columns in the source's order, or which one differs.
Result<std::vector<Column>> matched_columns(const TableSpec& t, const std::vector<Column>& src,
                                            const std::vector<Column>& dst) {
  std::vector<Column> out;
  for (const auto& s : src) {
    auto it =
        std::find_if(dst.begin(), dst.end(), [&](const Column& d) { return d.name == s.name; });
    if (it == dst.end()) {
      return fail(Code::FailedPrecondition, std::string("column ") + t.name + "." + s.name +
                                                " is in the source only: nothing copied");
    }
    out.push_back(*it);
  }
  for (const auto& d : dst) {
    if (std::none_of(src.begin(), src.end(), [&](const Column& s) { return s.name == d.name; })) {
      return fail(Code::FailedPrecondition, std::string("column ") + t.name + "." + d.name +
                                                " is in the destination only: nothing copied");
    }
  }
  return out;
}

// A source value as the destination column holds it: a boolean is 0 or 1;
// SQLite keeps an empty BLOB default ('') as text.
Status convert(Cell& cell, ColumnType to) {
  using Kind = Cell::Kind;
  switch (cell.kind) {
    case Kind::Null:
      return {};
    case Kind::Integer:
      if (to == ColumnType::Integer ||
          (to == ColumnType::Boolean && (cell.integer == 0 || cell.integer == 1)))
        return {};
      break;
    case Kind::Text:
      if (to == ColumnType::Text)
        return {};
      if (to == ColumnType::Bytes) {
        cell.kind = Kind::Bytes;
        return {};
      }
      break;
    case Kind::Bytes:
      if (to == ColumnType::Bytes)
        return {};
      break;
  }
  return fail(Code::Storage, std::string("a ") + std::string(to_string(cell.kind)) +
                                 " value where the destination holds " +
                                 std::string(to_string(to)));
}

}  // namespace

Result<CopyReport> copy_store(Store& from, Store& to, const CopyProgress& progress) {
  const std::string src_shown = "source " + from.describe();
  const std::string dst_shown = "destination " + to.describe();
  CK_ASSIGN(auto src, from.tables(false));
  CK_ASSIGN(auto dst, to.tables(true));
  CK_TRY(tables_known(*src, src_shown));
  CK_TRY(tables_known(*dst, dst_shown));
  for (const auto& t : kTables) {
    CK_ASSIGN(const auto rows, dst->count(t.name));
    if (rows > 0) {
      return fail(Code::FailedPrecondition, dst_shown + " is not empty (table " + t.name +
                                                " holds " + std::to_string(rows) +
                                                (rows == 1 ? " row" : " rows") +
                                                "); store copy writes only into a new store");
    }
  }

  CopyReport report;
  for (const auto& t : kTables) {
    CK_ASSIGN(const auto src_all, src->columns(t.name));
    CK_ASSIGN(const auto dst_all, dst->columns(t.name));
    const auto src_cols = without(src_all, t.own_order_column);
    CK_ASSIGN(const auto dst_cols,
              matched_columns(t, src_cols, without(dst_all, t.own_order_column)));
    CK_ASSIGN(const auto total, src->count(t.name));
    std::int64_t done = 0;
    if (progress)
      progress(t.name, 0, total);
    std::vector<Cell> row;
    const auto copy_row = [&](const std::vector<Cell>& in) -> Status {
      row = in;
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (auto ok = convert(row[i], dst_cols[i].type); !ok) {
          return fail(std::move(ok).error().context(std::string("table ") + t.name + ", row " +
                                                    std::to_string(done + 1) + ", column " +
                                                    dst_cols[i].name));
        }
      }
      CK_TRY(dst->insert(t.name, dst_cols, row));
      ++done;
      if (progress && done % kProgressEvery == 0)
        progress(t.name, done, total);
      return {};
    };
    CK_TRY(src->scan(t.name, src_cols, copy_row));
    CK_TRY(dst->finish_table(t.name));
    if (progress && done % kProgressEvery != 0)
      progress(t.name, done, total);
    report.tables.push_back(TableCopied{t.name, done});
    report.rows += done;
  }

  // Counters: the last CRL number and release sequence travel, so the next
  // CRL from the new store numbers above every CRL the old one published.
  CK_ASSIGN(const auto counter_cols, src->columns(kCounters));
  const auto copy_counter = [&](const std::vector<Cell>& in) -> Status {
    std::string name;
    std::int64_t value = 0;
    for (std::size_t i = 0; i < counter_cols.size(); ++i) {
      if (counter_cols[i].name == "name")
        name = in[i].bytes;
      else if (counter_cols[i].name == "value")
        value = in[i].integer;
    }
    if (name == kChangeCounter)
      return {};
    CK_ASSIGN(const bool set, dst->set_counter(name, value));
    if (!set) {
      return fail(Code::FailedPrecondition,
                  dst_shown + " has no counter '" + name + "' (the source's): nothing copied");
    }
    if (name == "crl_number")
      report.crl_number = value;
    return {};
  };
  CK_TRY(src->scan(kCounters, counter_cols, copy_counter));

  // What is committed is what the source holds: every table's count again,
  // read back from the destination inside the same transaction.
  for (const auto& t : report.tables) {
    CK_ASSIGN(const auto in_src, src->count(t.table));
    CK_ASSIGN(const auto in_dst, dst->count(t.table));
    if (in_src != t.rows || in_dst != t.rows) {
      return fail(Code::Internal, "table " + t.table + ": " + std::to_string(t.rows) +
                                      " rows copied, but the source holds " +
                                      std::to_string(in_src) + " and the destination " +
                                      std::to_string(in_dst) + ": nothing copied");
    }
  }
  CK_TRY(dst->commit());
  return report;
}

}  // namespace ck::store
