#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace ck::store {

namespace {
constexpr std::string_view kSqlite = "sqlite:";
}  // namespace

std::optional<std::filesystem::path> local_file(std::string_view url) {
  if (!url.starts_with(kSqlite))
    return std::nullopt;
  return std::filesystem::path(url.substr(kSqlite.size()));
}

Result<std::unique_ptr<Store>> open_store(std::string_view url, OpenMode mode) {
  if (const auto file = local_file(url)) {
    CK_ASSIGN(auto store, sqlite::SqliteStore::open(file->string(), mode));
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
