#include "store/test_backend.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

namespace ck::store::testing {
namespace {

class SqliteBackend final : public TestBackend {
 public:
  SqliteBackend() : url_("sqlite:" + (dir_.path() / "ck.db").string()) {}
  [[nodiscard]] const std::string& url() const override { return url_; }

  std::string damage(const std::string& sql) override {
    sqlite3* db = nullptr;
    const std::string path = (dir_.path() / "ck.db").string();
    if (::sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
      ::sqlite3_close(db);
      return "cannot open " + path;
    }
    const std::string all = "PRAGMA ignore_check_constraints = ON; " + sql;
    char* err = nullptr;
    std::string message;
    if (::sqlite3_exec(db, all.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      message = err != nullptr ? err : "sqlite3_exec failed";
      ::sqlite3_free(err);
    }
    ::sqlite3_close(db);
    return message;
  }

 private:
  ck::testing::TempDir dir_;
  std::string url_;
};

// Runs `sql` on database `db` of the test server; empty or the error.
std::string pg_exec(const std::string& base, const std::string& db, const std::string& sql) {
  const std::string url = base + "/" + db;
  PGconn* conn = ::PQconnectdb(url.c_str());
  std::string message;
  if (::PQstatus(conn) != CONNECTION_OK) {
    message = ::PQerrorMessage(conn);
  } else {
    PGresult* res = ::PQexec(conn, sql.c_str());
    const auto st = ::PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
      message = ::PQresultErrorMessage(res);
    ::PQclear(res);
  }
  ::PQfinish(conn);
  return message;
}

// A database of its own on the server the store.postgres fixture started
// (tests/pg/server.sh), migrated, dropped at the end.
class PostgresBackend final : public TestBackend {
 public:
  static std::unique_ptr<PostgresBackend> make(std::string& why) {
    const char* dir = std::getenv("CK_TEST_POSTGRES_DIR");
    if (dir == nullptr) {
      why =
          "CK_TEST_POSTGRES_DIR is not set: run the PostgreSQL tests through ctest (fixture "
          "store.postgres starts the server; apt-get install postgresql-15)";
      return nullptr;
    }
    std::ifstream in(std::string(dir) + "/url");
    std::string base;
    if (!std::getline(in, base) || base.empty()) {
      why = std::string("no server URL in ") + dir + "/url: the store.postgres fixture failed";
      return nullptr;
    }
    static std::atomic<int> counter{0};
    const std::string db =
        "ck_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    if (auto err = pg_exec(base, "postgres", "CREATE DATABASE " + db); !err.empty()) {
      why = "cannot create database " + db + ": " + err;
      return nullptr;
    }
    auto backend = std::unique_ptr<PostgresBackend>(new PostgresBackend(base, db));
    if (auto migrated = migrate_store(backend->url()); !migrated) {
      why = "store migrate: " + migrated.error().message;
      return nullptr;
    }
    return backend;
  }
  ~PostgresBackend() override {
    (void)pg_exec(base_, "postgres", "DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
  }
  [[nodiscard]] const std::string& url() const override { return url_; }

  std::string damage(const std::string& sql) override {
    // Every CHECK constraint goes first: the damage is what they refuse.
    return pg_exec(base_, db_,
                   "DO $$ DECLARE r record; BEGIN FOR r IN SELECT conrelid::regclass AS t, conname"
                   " FROM pg_constraint WHERE contype = 'c' AND connamespace = "
                   "'public'::regnamespace LOOP EXECUTE format('ALTER TABLE %s DROP CONSTRAINT "
                   "%I', r.t, r.conname); END LOOP; END $$; " +
                       sql);
  }

 private:
  PostgresBackend(std::string base, std::string db)
      : base_(std::move(base)), db_(std::move(db)), url_(base_ + "/" + db_) {}
  std::string base_;
  std::string db_;
  std::string url_;
};

}  // namespace

std::unique_ptr<TestBackend> make_backend(const std::string& name, std::string& why) {
  if (name == "sqlite")
    return std::make_unique<SqliteBackend>();
  if (name == "postgresql")
    return PostgresBackend::make(why);
  why = "unknown test backend '" + name + "'";
  return nullptr;
}

}  // namespace ck::store::testing
