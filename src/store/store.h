#pragma once
// The persistence interface of certkeeper. ca/ is written only against this,
// so a PostgreSQL implementation can be added without touching it.
//
// All access goes through a transaction. A write transaction takes the
// database's write lock when it begins (SQLite BEGIN IMMEDIATE), so two
// processes on one home serialise: one waits, neither loses an update.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/acme_account_records.h"
#include "store/audit_records.h"
#include "store/ca_records.h"
#include "store/canary_records.h"
#include "store/cert_records.h"
#include "store/crl_enforcement_records.h"
#include "store/crl_records.h"
#include "store/notification_records.h"
#include "store/revocation_records.h"
#include "store/rollout_records.h"
#include "store/server_cert_records.h"
#include "store/table_access.h"
#include "store/types.h"
#include "store/user_lease_records.h"
#include "store/user_records.h"

namespace ck::store {

/// One transaction over every capability. A backend implements all of them;
/// code that needs only some takes those interfaces (UserLease takes
/// UserLeaseRecords&), so what a module touches is visible in its signature
/// and each capability is tested on its own against every backend
/// (tests/store/contract_*_test.cpp).
class Tx : public CaRecords,
           public UserRecords,
           public CertRecords,
           public RevocationRecords,
           public CrlRecords,
           public CanaryRecords,
           public CrlEnforcementRecords,
           public NotificationRecords,
           public ServerCertRecords,
           public AcmeAccountRecords,
           public RolloutRecords,
           public UserLeaseRecords,
           public AuditRecords {
 public:
  ~Tx() override = default;
  /// Makes every change durable; without it, destruction rolls back.
  [[nodiscard]] virtual Status commit() = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  /// A consistent snapshot for reading.
  [[nodiscard]] virtual Result<std::unique_ptr<Tx>> read() = 0;
  /// A write transaction; waits for another writer to finish.
  [[nodiscard]] virtual Result<std::unique_ptr<Tx>> write() = 0;
  /// Every table row by row, for `store copy` only (table_access.h): a
  /// snapshot for reading, or the writers' lock for loading.
  [[nodiscard]] virtual Result<std::unique_ptr<TableAccess>> tables(bool write) = 0;
  /// Where the store lives, for messages ("sqlite:/home/x/certkeeper.db").
  [[nodiscard]] virtual std::string describe() const = 0;
  /// A number that changes whenever a write transaction commits, read
  /// cheaply: how serve learns a shared store changed. nullopt where the
  /// store has a cheaper sign of its own (SQLite: its file's times).
  [[nodiscard]] virtual Result<std::optional<std::int64_t>> change_stamp() {
    return std::optional<std::int64_t>();
  }
};

/// Whether opening may create the store. Only the commands that put the first
/// thing in a store create one; every other command on a home without a store
/// is an error, so a typo in --home is never an empty inventory (and exit 0).
enum class OpenMode { Existing, Create };

/// Opens a store from a URL: `sqlite:PATH` (with `Create`, a missing database
/// is created 0600; either way it is migrated to the current schema) or
/// `postgresql://USER@HOST[:PORT]/DB[?...]` (libpq's URI; no password in it:
/// libpq's passfile). A PostgreSQL store must be at this certkeeper's schema
/// (see migrate_store). With `Existing`, a store that does
/// not exist (no file, or a file without any certkeeper schema) fails with
/// Code::NotFound and nothing is created.
[[nodiscard]] Result<std::unique_ptr<Store>> open_store(std::string_view url,
                                                        OpenMode mode = OpenMode::Create);

struct MigrateOutcome {
  int before = 0;  // the schema version found (0: a new store)
  int after = 0;   // the version it is at now: this certkeeper's
};

/// Brings the store to this certkeeper's schema (`certkeeper store migrate`):
/// PostgreSQL is never migrated implicitly (a team upgrades its database on
/// purpose, once, under a lock); SQLite is migrated by every open anyway.
/// A store at a newer schema is refused.
[[nodiscard]] Result<MigrateOutcome> migrate_store(std::string_view url);

/// A store URL as messages may show it: without a password or query
/// parameters (they may name a passfile or carry options).
[[nodiscard]] std::string display_url(std::string_view url);

/// The local file a store URL keeps its data in (`sqlite:PATH`), or nullopt
/// for a server (`postgresql://`) or an unknown scheme.
[[nodiscard]] std::optional<std::filesystem::path> local_file(std::string_view url);

}  // namespace ck::store
