#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace ck::store {

namespace {
constexpr std::string_view kSqlite = "sqlite:";

bool is_postgres(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}
}  // namespace

std::optional<std::filesystem::path> local_file(std::string_view url) {
  if (!url.starts_with(kSqlite))
    return std::nullopt;
  return std::filesystem::path(url.substr(kSqlite.size()));
}

std::string display_url(std::string_view url) {
  return postgres::shown_url(url);
}

Result<std::unique_ptr<Store>> open_store(std::string_view url, OpenMode mode) {
  if (const auto file = local_file(url)) {
    CK_ASSIGN(auto store, sqlite::SqliteStore::open(file->string(), mode));
    return std::unique_ptr<Store>(std::move(store));
  }
  if (is_postgres(url)) {
    CK_ASSIGN(auto store, postgres::PostgresStore::open(std::string(url), mode));
    return std::unique_ptr<Store>(std::move(store));
  }
  return fail(Code::InvalidArgument, "store '" + postgres::shown_url(url) +
                                         "': unknown store URL (use sqlite:PATH or "
                                         "postgresql://USER@HOST/DB)");
}

Result<MigrateOutcome> migrate_store(std::string_view url) {
  if (const auto file = local_file(url)) {
    // SQLite migrates on every open (one file, one host); report what it did.
    CK_ASSIGN(const int before, sqlite::SqliteStore::version_of(file->string()));
    CK_ASSIGN(auto store, sqlite::SqliteStore::open(file->string(), OpenMode::Create));
    (void)store;
    return MigrateOutcome{before, sqlite::SqliteStore::schema_version()};
  }
  if (is_postgres(url)) {
    CK_ASSIGN(const auto versions, postgres::PostgresStore::migrate(std::string(url)));
    return MigrateOutcome{versions.first, versions.second};
  }
  return fail(Code::InvalidArgument, "store '" + postgres::shown_url(url) +
                                         "': unknown store URL (use sqlite:PATH or "
                                         "postgresql://USER@HOST/DB)");
}

}  // namespace ck::store
