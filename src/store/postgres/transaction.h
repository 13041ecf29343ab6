#pragma once
// How a certkeeper transaction begins and commits on PostgreSQL, shared by
// the record transactions (postgres_store.cpp) and the raw table access of
// `store copy` (tables.cpp).

#include "core/error.h"
#include "store/postgres/connection.h"

namespace ck::store::postgres {

/// A writer: READ COMMITTED under the writers' advisory lock, so writers run
/// one at a time (see PostgresStore). A reader: one REPEATABLE READ READ ONLY
/// snapshot, no lock.
[[nodiscard]] Status begin_transaction(Connection& conn, bool write);

/// COMMIT, refusing what PostgreSQL would roll back silently (a transaction
/// with a failed statement answers COMMIT with ROLLBACK and no error). A
/// writer raises counters.changes first (serve polls it).
[[nodiscard]] Status commit_transaction(Connection& conn, bool write);

}  // namespace ck::store::postgres
