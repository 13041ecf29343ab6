#include "store/postgres/transaction.h"

#include <cstdint>
#include <string_view>

namespace ck::store::postgres {
namespace {

// The advisory lock key of writers (pg_advisory_xact_lock). Arbitrary,
// fixed: "ck" "wr" in ASCII.
constexpr std::int64_t kWriteLock = 0x636b7772;

}  // namespace

Status begin_transaction(Connection& conn, bool write) {
  if (!write)
    return conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  CK_TRY(conn.exec("BEGIN ISOLATION LEVEL READ COMMITTED"));
  auto lock = conn.prepare("SELECT pg_advisory_xact_lock($1)");
  lock.bind(1, kWriteLock);
  return lock.run();
}

Status commit_transaction(Connection& conn, bool write) {
  if (::PQtransactionStatus(conn.raw()) == PQTRANS_INERROR) {
    return fail(Code::Storage, "database " + conn.describe() +
                                   ": a statement of this transaction failed; nothing of it "
                                   "was committed");
  }
  if (write) {
    // serve polls this (PostgresStore::change_stamp) to learn of changes.
    CK_TRY(conn.exec("UPDATE counters SET value = value + 1 WHERE name = 'changes'"));
  }
  ResultPtr res(::PQexec(conn.raw(), "COMMIT"));
  if (::PQresultStatus(res.get()) != PGRES_COMMAND_OK)
    return fail(conn.error("commit", res.get()));
  if (std::string_view(::PQcmdStatus(res.get())) != "COMMIT") {
    return fail(Code::Storage,
                "database " + conn.describe() + ": the transaction was rolled back, not committed");
  }
  return {};
}

}  // namespace ck::store::postgres
