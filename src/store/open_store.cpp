#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace ck::store {

Result<std::unique_ptr<Store>> open_store(std::string_view url, OpenMode mode) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.starts_with(kSqlite)) {
    CK_ASSIGN(auto store, sqlite::SqliteStore::open(std::string(url.substr(kSqlite.size())), mode));
    return std::unique_ptr<Store>(std::move(store));
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return fail(Code::InvalidArgument,
                "store '" + std::string(url) + "': PostgreSQL is not supported in this version");
  }
  return fail(Code::InvalidArgument,
              "store '" + std::string(url) + "': unknown store URL (use sqlite:PATH)");
}

}  // namespace ck::store
