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
#include "store/types.h"

namespace ck::store {

/// Filter for listing certificates; `now` decides what counts as expired.
enum class CertFilter { All, Active, Expired, Revoked, Held };

struct CertListRow {
  CertRecord cert;
  std::optional<RevocationRecord> revocation;
};

// serve's JSON API (issue 18): one page of the audit log.
struct AuditQuery {
  std::optional<std::string> subject;  // entries about exactly this subject (a user name)
  /// Entries whose subject or detail contains this text (a serial in hex,
  /// matched without regard to case); with `subject`, either matches.
  std::optional<std::string> mentions;
  std::optional<std::int64_t> before_id;  // the cursor: older entries than this one
  std::size_t limit = 100;
};
struct AuditRow {
  std::int64_t id = 0;  // the audit log's order: a later entry has a higher id
  AuditEntry entry;
};

class Tx {
 public:
  virtual ~Tx() = default;
  /// Makes every change durable; without it, destruction rolls back.
  [[nodiscard]] virtual Status commit() = 0;

  // CA
  [[nodiscard]] virtual Result<std::optional<CaRecord>> find_ca() = 0;
  [[nodiscard]] virtual Status insert_ca(const CaRecord& ca) = 0;
  /// Replaces the CA key's PEM (the same key, encrypted anew) when it still
  /// is `old_pem`; false when another process changed it first.
  [[nodiscard]] virtual Result<bool> replace_ca_key(std::string_view old_pem,
                                                    std::string_view new_pem) = 0;

  // Users
  [[nodiscard]] virtual Result<std::optional<UserRecord>> find_user(std::string_view name) = 0;
  /// Fails with AlreadyExists when the name is taken.
  [[nodiscard]] virtual Result<std::int64_t> insert_user(const UserProfile& profile,
                                                         Seconds created_at) = 0;
  [[nodiscard]] virtual Status update_user(const UserProfile& profile) = 0;
  /// Disables the user as of `at` (their current certificate was revoked), or
  /// enables them again (nullopt).
  [[nodiscard]] virtual Status set_user_disabled(std::string_view name,
                                                 std::optional<Seconds> at) = 0;
  [[nodiscard]] virtual Result<std::vector<UserRecord>> list_users() = 0;

  // Certificates
  /// Returns false (and changes nothing) when the serial exists already.
  [[nodiscard]] virtual Result<bool> insert_cert(const CertRecord& cert) = 0;
  [[nodiscard]] virtual Result<std::optional<CertRecord>> find_cert(std::string_view serial) = 0;
  /// The user's Active certificate, if any.
  [[nodiscard]] virtual Result<std::optional<CertRecord>> current_cert(std::string_view user) = 0;
  [[nodiscard]] virtual Result<std::vector<CertRecord>> certs_of_user(std::string_view user) = 0;
  [[nodiscard]] virtual Status set_cert_status(std::string_view serial, CertStatus status,
                                               const std::optional<std::string>& superseded_by) = 0;
  [[nodiscard]] virtual Status set_delivery(std::string_view serial, Delivery delivery) = 0;
  [[nodiscard]] virtual Result<std::vector<CertListRow>> list_certs(CertFilter filter,
                                                                    Seconds now) = 0;
  /// Streams active certificates with notAfter < before, soonest first (an
  /// index range; the record passed to `fn` is reused between rows).
  [[nodiscard]] virtual Status for_each_expiring(
      Seconds before, const std::function<void(const CertRecord&)>& fn) = 0;

  /// Streams every certificate with its revocation, without the DER, in no
  /// particular order: one pass for counts over a large CA (serve's
  /// snapshot) without holding the rows. The row passed to `fn` is reused.
  [[nodiscard]] virtual Status for_each_cert(const std::function<void(const CertListRow&)>& fn) = 0;

  // Revocations
  [[nodiscard]] virtual Status insert_revocation(const RevocationRecord& rev) = 0;
  [[nodiscard]] virtual Result<std::optional<RevocationRecord>> find_revocation(
      std::string_view serial) = 0;
  [[nodiscard]] virtual Result<std::vector<RevocationRecord>> revocations(
      std::optional<RevocationState> state) = 0;
  /// Releases the user's held revocations; returns the released serials.
  [[nodiscard]] virtual Result<std::vector<std::string>> release_held(std::string_view user,
                                                                      Seconds at,
                                                                      ReleaseCause cause) = 0;
  /// Releases one revocation at once with the record's reason, time, cause and
  /// ticket (a held one revoked for cause).
  [[nodiscard]] virtual Status release_revocation(const RevocationRecord& rev) = 0;
  /// Released revocations still due in a CRL and released after the CRL
  /// built at release sequence `crl_release_seq` (all of them when there is
  /// no CRL yet): what the next CRL adds. A sequence, not a time, so a
  /// release in the same second as a build is told apart.
  [[nodiscard]] virtual Result<std::int64_t> count_released_since(
      std::optional<std::int64_t> crl_release_seq) = 0;
  /// At least the number of revocations in the store, found without
  /// counting them: sizes a CRL's buffers (room reserved and never written
  /// costs address space, not memory).
  [[nodiscard]] virtual Result<std::int64_t> revocations_upper_bound() = 0;
  /// Held revocations of certificates expired by `now` become Dropped.
  [[nodiscard]] virtual Result<std::vector<std::string>> drop_expired_held(Seconds now) = 0;
  /// Streams the revocations released after the CRL built at release
  /// sequence `crl_release_seq` (every one still due when there is no CRL),
  /// with user, reason and ticket: what the next CRL adds, in one query.
  [[nodiscard]] virtual Status for_each_released_since(
      std::optional<std::int64_t> crl_release_seq,
      const std::function<void(const ReleasedEntry&)>& fn) = 0;
  /// Streams every Released revocation still due in a CRL.
  [[nodiscard]] virtual Status for_each_crl_entry(
      const std::function<void(const CrlEntry&)>& fn) = 0;
  /// Marks released entries (and canaries) with notAfter < this_update as
  /// listed for the last time in CRL `number` (RFC 5280 §3.3: kept until one
  /// CRL after expiry).
  [[nodiscard]] virtual Status mark_final_crl(Seconds this_update, std::int64_t number) = 0;

  // CRL canaries (migration 0012)
  [[nodiscard]] virtual Status insert_canary(const CanaryRecord& canary) = 0;
  /// Streams the canaries the next CRL lists (every one not yet past its
  /// final CRL), as CRL entries (reason 0: unspecified).
  [[nodiscard]] virtual Status for_each_canary_entry(
      const std::function<void(const CrlEntry&)>& fn) = 0;
  /// The serials of every canary ever recorded: what the CRL builder leaves
  /// out when it compares two CRLs' users' entries.
  [[nodiscard]] virtual Result<std::vector<std::string>> canary_serials() = 0;
  /// Every canary recorded, oldest first, without DER or key (`cert list --all`).
  [[nodiscard]] virtual Result<std::vector<CanaryRecord>> list_canaries() = 0;
  /// The canaries of the newest `limit` CRLs (purpose Crl), newest first.
  [[nodiscard]] virtual Result<std::vector<CanaryRecord>> recent_crl_canaries(
      std::size_t limit) = 0;

  // CRL enforcement as `crl check` last saw it (migration 0013)
  /// Replaces the endpoint's observation.
  [[nodiscard]] virtual Status record_crl_enforcement(const CrlEnforcementRecord& seen) = 0;
  /// Every endpoint's last observation, by endpoint.
  [[nodiscard]] virtual Result<std::vector<CrlEnforcementRecord>> list_crl_enforcement() = 0;

  // CRLs
  [[nodiscard]] virtual Result<std::optional<CrlRecord>> last_crl() = 0;
  /// The last CRL number handed out (also counts numbers taken over on import).
  [[nodiscard]] virtual Result<std::int64_t> last_crl_number() = 0;
  /// Records a CRL (number, times, serials, intended file, publish state when
  /// already known); its release_seq is the store's current one, whatever
  /// `crl` says.
  [[nodiscard]] virtual Status insert_crl(const CrlRecord& crl) = 0;
  /// Records the outcome of publishing CRL `number`.
  [[nodiscard]] virtual Status set_crl_publish(std::int64_t number, PublishState state, Seconds at,
                                               std::string_view error) = 0;
  /// Continues a numbering taken over from another CA: the next CRL gets a
  /// number above `last` (never lowers the counter).
  [[nodiscard]] virtual Status raise_crl_number(std::int64_t last) = 0;

  /// Records the ticket opened for a certificate; `user renew` carries it over.
  [[nodiscard]] virtual Status set_cert_ticket(std::string_view serial,
                                               std::string_view ticket) = 0;

  // Notifications
  [[nodiscard]] virtual Result<bool> notified(std::string_view key, std::string_view channel) = 0;
  [[nodiscard]] virtual Result<std::optional<NotificationRecord>> find_notification(
      std::string_view key, std::string_view channel) = 0;
  /// Records a completed channel; recording one twice keeps the first.
  [[nodiscard]] virtual Status record_notification(const NotificationRecord& n) = 0;
  /// Every notice recorded as Printed, oldest first.
  [[nodiscard]] virtual Result<std::vector<NotificationRecord>> printed_notifications() = 0;
  /// Forgets every channel recorded under `key`, so `notify` does it again;
  /// returns how many records went.
  [[nodiscard]] virtual Result<std::int64_t> forget_notifications(std::string_view key) = 0;

  // Server certificates
  /// Fails with AlreadyExists when that name already has that version.
  [[nodiscard]] virtual Status insert_server_cert(const ServerCertRecord& cert) = 0;
  /// The given version of a server certificate, or its newest.
  [[nodiscard]] virtual Result<std::optional<ServerCertRecord>> find_server_cert(
      std::string_view name, std::optional<std::int64_t> version) = 0;
  /// The newest version of every server certificate, by name.
  [[nodiscard]] virtual Result<std::vector<ServerCertRecord>> list_server_certs() = 0;
  /// Like replace_ca_key, for one version of a server certificate.
  [[nodiscard]] virtual Result<bool> replace_server_cert_key(std::string_view name,
                                                             std::int64_t version,
                                                             std::string_view old_pem,
                                                             std::string_view new_pem) = 0;

  // ACME accounts
  [[nodiscard]] virtual Result<std::optional<AcmeAccountRecord>> find_acme_account(
      std::string_view directory) = 0;
  /// Keeps an existing account for the directory (two first runs at once).
  [[nodiscard]] virtual Status insert_acme_account(const AcmeAccountRecord& account) = 0;

  // Rollout journal
  [[nodiscard]] virtual Result<std::int64_t> insert_rollout(const RolloutRecord& r) = 0;
  [[nodiscard]] virtual Status update_rollout(std::int64_t id, std::string_view state,
                                              std::optional<Seconds> finished_at,
                                              std::string_view detail) = 0;
  /// The newest rollout of a plan.
  [[nodiscard]] virtual Result<std::optional<RolloutRecord>> last_rollout(
      std::string_view plan) = 0;
  /// Inserts or replaces the step of (rollout_id, target).
  [[nodiscard]] virtual Status put_rollout_step(const RolloutStepRecord& step) = 0;
  [[nodiscard]] virtual Result<std::vector<RolloutStepRecord>> rollout_steps(
      std::int64_t rollout_id) = 0;

  // Per-user leases (ca/user_lease.h decides when one may be taken over)
  [[nodiscard]] virtual Result<std::optional<UserLeaseRecord>> find_user_lease(
      std::string_view user) = 0;
  /// Records a lease; false (nothing changed) when the user has one already.
  [[nodiscard]] virtual Result<bool> insert_user_lease(const UserLeaseRecord& lease) = 0;
  /// Replaces the user's lease if it still carries `token` (a holder extending
  /// its own, or a stale one taken over); false (nothing changed) otherwise.
  [[nodiscard]] virtual Result<bool> replace_user_lease(const UserLeaseRecord& lease,
                                                        std::string_view token) = 0;
  /// Removes the user's lease if it carries `token`.
  [[nodiscard]] virtual Status delete_user_lease(std::string_view user, std::string_view token) = 0;

  // Audit
  [[nodiscard]] virtual Status audit(const AuditEntry& entry) = 0;
  [[nodiscard]] virtual Result<std::vector<AuditEntry>> audit_of(std::string_view subject) = 0;

  // serve's JSON API (issue 18): pages keyed by the last row's id or name, so
  // a cursor stays correct while rows are added (they sort after it).
  /// Streams certificates with id > `after_id` in id order, with their
  /// revocation and without the DER, while `fn` returns true; with
  /// `not_after_max`, only those with notAfter <= it. The row is reused.
  [[nodiscard]] virtual Status for_each_cert_after(
      std::int64_t after_id, std::optional<Seconds> not_after_max,
      const std::function<bool(const CertListRow&)>& fn) = 0;
  /// Streams certificates in (notAfter, serial) order, those after `after`
  /// (a notAfter and serial bytes) only, with their revocation and without
  /// the DER, while `fn` returns true (serve's web list: the soonest to
  /// expire first, a page at a time). The row is reused.
  [[nodiscard]] virtual Status for_each_cert_by_expiry(
      const std::optional<std::pair<Seconds, std::string>>& after,
      const std::function<bool(const CertListRow&)>& fn) = 0;
  /// Up to `limit` users whose names sort after `after`, by name.
  [[nodiscard]] virtual Result<std::vector<UserRecord>> users_after(std::string_view after,
                                                                    std::size_t limit) = 0;
  /// Up to `q.limit` audit entries matching `q`, newest first.
  [[nodiscard]] virtual Result<std::vector<AuditRow>> audit_page(const AuditQuery& q) = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  /// A consistent snapshot for reading.
  [[nodiscard]] virtual Result<std::unique_ptr<Tx>> read() = 0;
  /// A write transaction; waits for another writer to finish.
  [[nodiscard]] virtual Result<std::unique_ptr<Tx>> write() = 0;
  /// Where the store lives, for messages ("sqlite:/home/x/certkeeper.db").
  [[nodiscard]] virtual std::string describe() const = 0;
};

/// Whether opening may create the store. Only the commands that put the first
/// thing in a store create one; every other command on a home without a store
/// is an error, so a typo in --home is never an empty inventory (and exit 0).
enum class OpenMode { Existing, Create };

/// Opens a store from a URL: `sqlite:PATH` (with `Create`, a missing database
/// is created 0600; either way it is migrated to the current schema).
/// `postgresql://` is reserved for later. With `Existing`, a store that does
/// not exist (no file, or a file without any certkeeper schema) fails with
/// Code::NotFound and nothing is created.
[[nodiscard]] Result<std::unique_ptr<Store>> open_store(std::string_view url,
                                                        OpenMode mode = OpenMode::Create);

/// The local file a store URL keeps its data in (`sqlite:PATH`), or nullopt
/// for a server (`postgresql://`) or an unknown scheme.
[[nodiscard]] std::optional<std::filesystem::path> local_file(std::string_view url);

}  // namespace ck::store
