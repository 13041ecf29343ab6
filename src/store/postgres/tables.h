#pragma once

#include <memory>

#include "store/postgres/connection.h"
#include "store/table_access.h"

namespace ck::store::postgres {

/// Raw table access over one transaction of `conn` (store copy). Rows are
/// loaded with COPY FROM STDIN, a million rows in seconds instead of a
/// round trip each.
[[nodiscard]] Result<std::unique_ptr<TableAccess>> open_tables(Connection& conn, bool write);

}  // namespace ck::store::postgres
