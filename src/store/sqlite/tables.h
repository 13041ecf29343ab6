#pragma once

#include <memory>

#include "store/sqlite/connection.h"
#include "store/table_access.h"

namespace ck::store::sqlite {

/// Raw table access over one transaction of `conn` (store copy).
[[nodiscard]] Result<std::unique_ptr<TableAccess>> open_tables(Connection& conn, bool write);

}  // namespace ck::store::sqlite
