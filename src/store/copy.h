#pragma once
// `certkeeper store copy`: every row of one store into a new one (SQLite to
// PostgreSQL when a team outgrows one home, and back).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/store.h"

namespace ck::store {

struct TableCopied {
  std::string table;
  std::int64_t rows = 0;  // in the source, and now in the destination
};

struct CopyReport {
  std::vector<TableCopied> tables;  // in copy order
  std::int64_t rows = 0;
  std::int64_t crl_number = 0;  // the last CRL number handed out, now on both sides
};

/// Progress of the table being copied: rows done of total.
using CopyProgress =
    std::function<void(std::string_view table, std::int64_t done, std::int64_t total)>;

/// Copies every row of every table of `from` (one snapshot) into `to` (one
/// transaction: all or nothing), which must hold no rows yet. Refuses a
/// table this certkeeper does not know on either side (a store from a newer
/// certkeeper) or columns that differ, rather than leave anything behind.
/// The counters (CRL number, release sequence) are carried over, so the
/// next CRL built from either store numbers above every CRL published.
/// Before committing, every table's row count in `to` is compared with the
/// source's.
[[nodiscard]] Result<CopyReport> copy_store(Store& from, Store& to,
                                            const CopyProgress& progress = {});

}  // namespace ck::store
