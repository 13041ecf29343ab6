#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <iterator>
#include <unordered_map>

#include "postgres_migrations.inc"
#include "store/postgres/tables.h"
#include "store/postgres/transaction.h"
#include "store/rows.h"

namespace ck::store::postgres {
namespace {

using namespace rows;  // NOLINT(google-build-using-namespace): the row readers

// The advisory lock key of migrations (pg_advisory_lock); writers have
// theirs in transaction.cpp. Arbitrary, fixed: "ck" "mg" in ASCII.
constexpr std::int64_t kMigrateLock = 0x636b6d67;

constexpr const char* kCertColumns =
    "c.id, c.serial, u.name, c.key_type, c.not_before, c.not_after, c.issued_at, c.der, "
    "c.status, c.superseded_by, c.delivery, c.ticket";
// The same columns with an empty DER, for listings that never show the
// certificate itself.
#define CK_PG_CERT_SUMMARY                                                                  \
  "c.id, c.serial, u.name, c.key_type, c.not_before, c.not_after, c.issued_at, ''::bytea, " \
  "c.status, c.superseded_by, c.delivery, c.ticket"
#define CK_PG_REV_COLUMNS                                                                   \
  "r.serial, u.name, r.reason, r.state, r.requested_at, r.released_at, r.cause, r.ticket, " \
  "r.not_after, r.replacement, r.final_crl"
// A certificate row with its revocation (rows::read_cert_row's columns).
#define CK_PG_CERT_ROW                                    \
  "SELECT " CK_PG_CERT_SUMMARY ", " CK_PG_REV_COLUMNS     \
  ", r.cert_id IS NULL"                                   \
  " FROM certificates c JOIN users u ON u.id = c.user_id" \
  " LEFT JOIN revocations r ON r.cert_id = c.id"
#define CK_PG_USER_COLUMNS \
  "id, name, cn, email, org, ou, locality, state, country, phone, created_at, disabled_at"
#define CK_PG_SERVER_CERT_COLUMNS                                                             \
  "name, version, source, domains, cert_der, chain_pem, key_pem, key_encrypted, not_before, " \
  "not_after, created_at, sha256, settings"
#define CK_PG_NOTIFICATION_SELECT \
  "SELECT key, channel, method, at, reference, state, link FROM notifications"

// Rows of (serial, revocation time, reason, notAfter) to `fn`, one reused entry.

class PostgresTx final : public Tx {
 public:
  explicit PostgresTx(Connection& conn) : conn_(conn) {}
  ~PostgresTx() override {
    if (open_)
      (void)conn_.exec("ROLLBACK");
  }

  Status begin(bool write) {
    write_ = write;
    // Open before the lock is taken: a failed lock wait still rolls back.
    open_ = true;
    auto begun = begin_transaction(conn_, write);
    if (!begun && ::PQtransactionStatus(conn_.raw()) == PQTRANS_IDLE)
      open_ = false;
    return begun;
  }

  Status commit() override {
    // Whatever the outcome, the transaction is over (committed, or rolled
    // back by the server).
    auto committed = commit_transaction(conn_, write_);
    if (committed || ::PQtransactionStatus(conn_.raw()) == PQTRANS_IDLE)
      open_ = false;
    return committed;
  }

  // CA
  Result<std::optional<CaRecord>> find_ca() override {
    auto st = conn_.prepare(
        "SELECT name, key_type, cert_der, key_pem, key_encrypted, crl_validity_s, created_at,"
        " key_uri FROM ca WHERE id = 1");
    return find_one(st, [](const Statement& s) {
      CaRecord ca;
      ca.name = s.text(0);
      ca.key_type = s.text(1);
      ca.cert_der = s.blob(2);
      ca.key_pem = s.text(3);
      ca.key_encrypted = s.boolean(4);
      ca.crl_validity = std::chrono::seconds(s.int64(5));
      ca.created_at = to_time(s.int64(6));
      ca.key_uri = s.text(7);
      return ca;
    });
  }

  Status insert_ca(const CaRecord& ca) override {
    auto st = conn_.prepare(
        "INSERT INTO ca (id, name, key_type, cert_der, key_pem, key_encrypted, crl_validity_s,"
        " created_at, key_uri) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8)");
    st.bind(1, ca.name).bind(2, ca.key_type).bind_blob(3, ca.cert_der).bind(4, ca.key_pem);
    st.bind_bool(5, ca.key_encrypted).bind(6, ca.crl_validity.count());
    st.bind(7, secs(ca.created_at)).bind(8, ca.key_uri);
    return st.run();
  }

  Result<bool> replace_ca_key(std::string_view old_pem, std::string_view new_pem,
                              bool encrypted) override {
    auto st = conn_.prepare(
        "UPDATE ca SET key_pem = $1, key_encrypted = $2 WHERE id = 1 AND key_pem = $3");
    st.bind(1, new_pem).bind_bool(2, encrypted).bind(3, old_pem);
    CK_TRY(st.run());
    return st.changes() == 1;
  }

  // Users
  Result<std::optional<UserRecord>> find_user(std::string_view name) override {
    auto st = conn_.prepare("SELECT " CK_PG_USER_COLUMNS " FROM users WHERE name = $1");
    st.bind(1, name);
    return find_one(st, [](const Statement& s) { return read_user(s); });
  }

  Result<std::int64_t> insert_user(const UserProfile& p, Seconds created_at) override {
    auto st = conn_.prepare(
        "INSERT INTO users (name, cn, email, org, ou, locality, state, country, phone,"
        " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (name) DO NOTHING RETURNING id");
    st.bind(1, p.name).bind(2, p.cn).bind(3, p.email).bind(4, p.org).bind(5, p.ou);
    st.bind(6, p.locality).bind(7, p.state).bind(8, p.country).bind(9, p.phone);
    st.bind(10, secs(created_at));
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return fail(Code::AlreadyExists, "user '" + p.name + "' exists already");
    return st.int64(0);
  }

  Status update_user(const UserProfile& p) override {
    auto st = conn_.prepare(
        "UPDATE users SET cn = $1, email = $2, org = $3, ou = $4, locality = $5, state = $6,"
        " country = $7, phone = $8 WHERE name = $9");
    st.bind(1, p.cn).bind(2, p.email).bind(3, p.org).bind(4, p.ou).bind(5, p.locality);
    st.bind(6, p.state).bind(7, p.country).bind(8, p.phone).bind(9, p.name);
    CK_TRY(st.run());
    if (st.changes() != 1)
      return fail(Code::NotFound, "unknown user '" + p.name + "'");
    return {};
  }

  Status set_user_disabled(std::string_view name, std::optional<Seconds> at) override {
    auto st = conn_.prepare("UPDATE users SET disabled_at = $1 WHERE name = $2");
    if (at)
      st.bind(1, secs(*at));
    else
      st.bind_null(1);
    st.bind(2, name);
    CK_TRY(st.run());
    if (st.changes() != 1)
      return fail(Code::NotFound, "unknown user '" + std::string(name) + "'");
    return {};
  }

  Result<std::vector<UserRecord>> list_users() override {
    auto st = conn_.prepare("SELECT " CK_PG_USER_COLUMNS " FROM users ORDER BY name");
    return collect(st, [](const Statement& s) { return read_user(s); });
  }

  Result<std::vector<UserRecord>> users_after(std::string_view after, std::size_t limit) override {
    auto st = conn_.prepare("SELECT " CK_PG_USER_COLUMNS
                            " FROM users WHERE name > $1 ORDER BY name LIMIT $2");
    st.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
    return collect(st, [](const Statement& s) { return read_user(s); });
  }

  // Certificates
  Result<bool> insert_cert(const CertRecord& c) override {
    // The serial is UNIQUE: a duplicate inserts nothing and says so.
    auto st = conn_.prepare(
        "INSERT INTO certificates (serial, user_id, key_type, not_before, not_after, issued_at,"
        " der, status, superseded_by, delivery, ticket)"
        " SELECT $1, id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM users WHERE name = $11"
        " ON CONFLICT (serial) DO NOTHING");
    st.bind_blob(1, c.serial).bind(2, c.key_type).bind(3, secs(c.not_before));
    st.bind(4, secs(c.not_after)).bind(5, secs(c.issued_at)).bind_blob(6, c.der);
    st.bind(7, to_string(c.status)).bind_blob_opt(8, c.superseded_by);
    st.bind(9, to_string(c.delivery)).bind(10, c.ticket).bind(11, c.user);
    CK_TRY(st.run());
    if (st.changes() == 1)
      return true;
    CK_ASSIGN(const auto user, find_user(c.user));
    if (!user)
      return fail(Code::NotFound, "unknown user '" + c.user + "'");
    return false;
  }

  Result<std::optional<CertRecord>> find_cert(std::string_view serial) override {
    static const std::string sql = std::string("SELECT ") + kCertColumns +
                                   " FROM certificates c JOIN users u ON u.id = c.user_id"
                                   " WHERE c.serial = $1";
    auto st = conn_.prepare(sql.c_str());
    st.bind_blob(1, serial);
    return find_one(st, [](const Statement& s) { return read_cert(s); });
  }

  Result<std::optional<CertRecord>> current_cert(std::string_view user) override {
    // Not `status = 'active'`: a row with a status this certkeeper does not
    // know must fail the read (see the SQLite store).
    static const std::string sql =
        std::string("SELECT ") + kCertColumns +
        " FROM certificates c JOIN users u ON u.id = c.user_id"
        " WHERE u.name = $1 AND c.status NOT IN ('superseded', 'revoked')"
        " ORDER BY c.issued_at DESC, c.id DESC LIMIT 1";
    auto st = conn_.prepare(sql.c_str());
    st.bind(1, user);
    return find_one(st, [](const Statement& s) { return read_cert(s); });
  }

  Result<std::vector<CertRecord>> certs_of_user(std::string_view user) override {
    auto st = conn_.prepare("SELECT " CK_PG_CERT_SUMMARY
                            " FROM certificates c JOIN users u ON u.id = c.user_id"
                            " WHERE u.name = $1 ORDER BY c.issued_at, c.id");
    st.bind(1, user);
    return collect(st, [](const Statement& s) { return read_cert(s); });
  }

  Status set_cert_status(std::string_view serial, CertStatus status,
                         const std::optional<std::string>& superseded_by) override {
    auto st =
        conn_.prepare("UPDATE certificates SET status = $1, superseded_by = $2 WHERE serial = $3");
    st.bind(1, to_string(status)).bind_blob_opt(2, superseded_by).bind_blob(3, serial);
    CK_TRY(st.run());
    if (st.changes() != 1)
      return fail(Code::NotFound, "unknown certificate");
    return {};
  }

  Status set_delivery(std::string_view serial, Delivery delivery) override {
    auto st = conn_.prepare("UPDATE certificates SET delivery = $1 WHERE serial = $2");
    st.bind(1, to_string(delivery)).bind_blob(2, serial);
    return st.run();
  }

  Status set_cert_ticket(std::string_view serial, std::string_view ticket) override {
    auto st = conn_.prepare("UPDATE certificates SET ticket = $1 WHERE serial = $2");
    st.bind(1, ticket).bind_blob(2, serial);
    return st.run();
  }

  Result<std::vector<CertListRow>> list_certs(CertFilter filter, Seconds now) override {
    auto st = conn_.prepare(CK_PG_CERT_ROW
                            " WHERE ($1 = 0)"
                            "    OR ($1 = 1 AND c.status = 'active' AND c.not_after > $2)"
                            "    OR ($1 = 2 AND c.not_after <= $2)"
                            "    OR ($1 = 3 AND r.state = 'released')"
                            "    OR ($1 = 4 AND r.state = 'held' AND c.not_after > $2)"
                            " ORDER BY u.name, c.issued_at, c.id");
    st.bind(1, static_cast<std::int64_t>(filter)).bind(2, secs(now));
    return collect(st, [](const Statement& s) -> Result<CertListRow> {
      CertListRow r;
      CK_TRY(read_cert_row(s, r));
      return r;
    });
  }

  Status for_each_expiring(Seconds before,
                           const std::function<void(const CertRecord&)>& fn) override {
    auto st = conn_.prepare("SELECT " CK_PG_CERT_SUMMARY
                            " FROM certificates c JOIN users u ON u.id = c.user_id"
                            " WHERE c.status = 'active' AND c.not_after < $1"
                            " ORDER BY c.not_after");
    st.bind(1, secs(before)).stream();
    CertRecord row;
    for (;;) {
      CK_ASSIGN(const bool more, st.step());
      if (!more)
        return {};
      CK_TRY(read_cert_into(st, 0, row));
      fn(row);
    }
  }

  Status for_each_cert(const std::function<void(const CertListRow&)>& fn) override {
    auto st = conn_.prepare(CK_PG_CERT_ROW);
    st.stream();
    return stream_cert_rows(st, [&](const CertListRow& row) {
      fn(row);
      return true;
    });
  }

  Status for_each_cert_after(std::int64_t after_id, std::optional<Seconds> not_after_max,
                             const std::function<bool(const CertListRow&)>& fn) override {
    auto st = conn_.prepare(CK_PG_CERT_ROW
                            " WHERE c.id > $1 AND ($2::bigint IS NULL OR c.not_after <= $2)"
                            " ORDER BY c.id");
    st.bind(1, after_id);
    if (not_after_max)
      st.bind(2, secs(*not_after_max));
    else
      st.bind_null(2);
    st.stream();
    return stream_cert_rows(st, fn);
  }

  Status for_each_cert_by_expiry(const std::optional<std::pair<Seconds, std::string>>& after,
                                 const std::function<bool(const CertListRow&)>& fn) override {
    // bytea compares as bytes, then length: the order of the serials' hex.
    auto st = after ? conn_.prepare(CK_PG_CERT_ROW
                                    " WHERE (c.not_after, c.serial) > ($1, $2)"
                                    " ORDER BY c.not_after, c.serial")
                    : conn_.prepare(CK_PG_CERT_ROW " ORDER BY c.not_after, c.serial");
    if (after) {
      st.bind(1, secs(after->first));
      st.bind_blob(2, after->second);
    }
    st.stream();
    return stream_cert_rows(st, fn);
  }

  // Revocations
  Status insert_revocation(const RevocationRecord& r) override {
    std::int64_t seq = 0;
    if (r.state == RevocationState::Released) {
      CK_ASSIGN(seq, release_seq());
    }
    auto st = conn_.prepare(
        "INSERT INTO revocations (cert_id, serial, not_after, user_id, reason, state,"
        " requested_at, released_at, cause, ticket, replacement, final_crl, release_seq)"
        " SELECT id, serial, not_after, user_id, $1, $2, $3, $4, $5, $6, $7, $8, $9"
        " FROM certificates WHERE serial = $10");
    st.bind(1, std::int64_t{r.reason}).bind(2, to_string(r.state)).bind(3, secs(r.requested_at));
    if (r.released_at)
      st.bind(4, secs(*r.released_at));
    else
      st.bind_null(4);
    if (r.cause)
      st.bind(5, to_string(*r.cause));
    else
      st.bind_null(5);
    st.bind(6, r.ticket).bind_blob_opt(7, r.replacement).bind_opt(8, r.final_crl);
    st.bind(9, seq).bind_blob(10, r.serial);
    CK_TRY(st.run());
    if (st.changes() != 1)
      return fail(Code::NotFound, "unknown certificate");
    return {};
  }

  Result<std::optional<RevocationRecord>> find_revocation(std::string_view serial) override {
    auto st = conn_.prepare("SELECT " CK_PG_REV_COLUMNS
                            " FROM revocations r JOIN users u ON u.id = r.user_id"
                            " WHERE r.serial = $1");
    st.bind_blob(1, serial);
    return find_one(st, [](const Statement& s) { return read_revocation(s); });
  }

  Result<std::vector<RevocationRecord>> revocations(std::optional<RevocationState> state) override {
    auto st = conn_.prepare("SELECT " CK_PG_REV_COLUMNS
                            " FROM revocations r JOIN users u ON u.id = r.user_id"
                            " WHERE $1::text IS NULL OR r.state = $1"
                            " ORDER BY u.name, r.requested_at");
    if (state)
      st.bind(1, to_string(*state));
    else
      st.bind_null(1);
    return collect(st, [](const Statement& s) { return read_revocation(s); });
  }

  Result<std::vector<std::string>> release_held(std::string_view user, Seconds at,
                                                ReleaseCause cause) override {
    // `state = 'held'` in the WHERE: a hold is released once; a second
    // release of the same rows changes nothing and returns nothing.
    CK_ASSIGN(const auto seq, release_seq());
    auto st = conn_.prepare(
        "UPDATE revocations SET state = 'released', released_at = $1, cause = $2,"
        " release_seq = $3 WHERE state = 'held'"
        " AND user_id = (SELECT id FROM users WHERE name = $4) RETURNING serial");
    st.bind(1, secs(at)).bind(2, to_string(cause)).bind(3, seq).bind(4, user);
    return collect(st, [](const Statement& s) { return s.blob(0); });
  }

  Status release_revocation(const RevocationRecord& r) override {
    CK_ASSIGN(const auto seq, release_seq());
    auto st = conn_.prepare(
        "UPDATE revocations SET state = 'released', reason = $1, released_at = $2, cause = $3,"
        " ticket = $4, final_crl = NULL, release_seq = $5 WHERE serial = $6");
    st.bind(1, std::int64_t{r.reason}).bind(2, secs(r.released_at.value_or(r.requested_at)));
    st.bind(3, to_string(r.cause.value_or(ReleaseCause::Immediate))).bind(4, r.ticket);
    st.bind(5, seq).bind_blob(6, r.serial);
    CK_TRY(st.run());
    if (st.changes() != 1)
      return fail(Code::NotFound, "unknown revocation");
    return {};
  }

  Result<std::int64_t> count_released_since(std::optional<std::int64_t> crl_release_seq) override {
    auto st = conn_.prepare(
        "SELECT count(*) FROM revocations WHERE state = 'released' AND final_crl IS NULL"
        " AND release_seq > $1");
    st.bind(1, crl_release_seq.value_or(-1));
    CK_TRY(st.step());
    return st.int64(0);
  }

  Result<std::int64_t> revocations_upper_bound() override {
    // cert_id comes from an identity: no table holds more revocations than
    // certificates were ever issued.
    auto st = conn_.prepare("SELECT coalesce(max(cert_id), 0) FROM revocations");
    CK_TRY(st.step());
    return st.int64(0);
  }

  Result<std::vector<std::string>> drop_expired_held(Seconds now) override {
    auto st = conn_.prepare(
        "UPDATE revocations SET state = 'dropped' WHERE state = 'held' AND not_after <= $1"
        " RETURNING serial");
    st.bind(1, secs(now));
    return collect(st, [](const Statement& s) { return s.blob(0); });
  }

  Status for_each_crl_entry(const std::function<void(const CrlEntry&)>& fn) override {
    auto st = conn_.prepare(
        "SELECT serial, released_at, reason, not_after, release_seq, ticket FROM revocations"
        " WHERE state = 'released' AND final_crl IS NULL");
    st.stream();
    return stream_crl_entries(st, fn, /*with_release=*/true);
  }

  Status for_each_released_since(std::optional<std::int64_t> crl_release_seq,
                                 const std::function<void(const ReleasedEntry&)>& fn) override {
    auto st = conn_.prepare(
        "SELECT r.serial, u.name, r.reason, r.ticket FROM revocations r"
        " JOIN users u ON u.id = r.user_id"
        " WHERE r.state = 'released' AND r.final_crl IS NULL AND r.release_seq > $1");
    st.bind(1, crl_release_seq.value_or(-1)).stream();
    ReleasedEntry e;
    for (;;) {
      CK_ASSIGN(const bool row, st.step());
      if (!row)
        return {};
      e.serial.assign(st.blob_view(0));
      e.user.assign(st.text_view(1));
      e.reason = static_cast<int>(st.int64(2));
      e.ticket.assign(st.text_view(3));
      fn(e);
    }
  }

  Status mark_final_crl(Seconds this_update, std::int64_t number) override {
    auto st = conn_.prepare(
        "UPDATE revocations SET final_crl = $1"
        " WHERE state = 'released' AND final_crl IS NULL AND not_after < $2");
    st.bind(1, number).bind(2, secs(this_update));
    CK_TRY(st.run());
    auto canaries = conn_.prepare(
        "UPDATE crl_canaries SET final_crl = $1 WHERE final_crl IS NULL AND not_after < $2");
    canaries.bind(1, number).bind(2, secs(this_update));
    return canaries.run();
  }

  // Canaries
  Status insert_canary(const CanaryRecord& c) override {
    auto st = conn_.prepare(
        "INSERT INTO crl_canaries (serial, purpose, crl_number, not_before, not_after,"
        " revoked_at, der, sealed_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    st.bind_blob(1, c.serial).bind(2, to_string(c.purpose)).bind_opt(3, c.crl_number);
    st.bind(4, secs(c.not_before)).bind(5, secs(c.not_after)).bind(6, secs(c.revoked_at));
    st.bind_blob(7, c.der);
    if (c.sealed_key.empty())
      st.bind_null(8);
    else
      st.bind_blob(8, c.sealed_key);
    return st.run();
  }

  Result<bool> insert_published_revocation(const CrlEntry& e, std::int64_t crl_number,
                                           Seconds at) override {
    auto st = conn_.prepare(
        "INSERT INTO published_revocations (serial, revoked_at, reason, crl_number, imported_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (serial) DO NOTHING");
    st.bind_blob(1, e.serial).bind(2, secs(e.revoked_at)).bind(3, std::int64_t{e.reason});
    st.bind(4, crl_number).bind(5, secs(at));
    CK_TRY(st.run());
    return st.changes() > 0;
  }

  Status for_each_published_revocation(const std::function<void(const CrlEntry&)>& fn) override {
    auto st = conn_.prepare(
        "SELECT serial, revoked_at, reason, 0 FROM published_revocations ORDER BY serial");
    st.stream();
    return stream_crl_entries(st, fn);
  }

  Status for_each_canary_entry(const std::function<void(const CrlEntry&)>& fn) override {
    // Reason 0: unspecified (no reason extension).
    auto st = conn_.prepare(
        "SELECT serial, revoked_at, 0, not_after FROM crl_canaries WHERE final_crl IS NULL"
        " ORDER BY serial");
    st.stream();
    return stream_crl_entries(st, fn);
  }

  Result<std::vector<std::string>> canary_serials() override {
    auto st = conn_.prepare("SELECT serial FROM crl_canaries");
    return collect(st, [](const Statement& s) { return s.blob(0); });
  }

  Result<std::vector<CanaryRecord>> list_canaries() override {
    auto st = conn_.prepare(
        "SELECT serial, purpose, crl_number, not_before, not_after, revoked_at, final_crl"
        " FROM crl_canaries ORDER BY revoked_at, seq");
    return collect(st, [](const Statement& s) -> Result<CanaryRecord> {
      CanaryRecord c;
      c.serial = s.blob(0);
      CK_ASSIGN(c.purpose, parse_canary_purpose(s.text_view(1)));
      if (!s.is_null(2))
        c.crl_number = s.int64(2);
      c.not_before = to_time(s.int64(3));
      c.not_after = to_time(s.int64(4));
      c.revoked_at = to_time(s.int64(5));
      if (!s.is_null(6))
        c.final_crl = s.int64(6);
      return c;
    });
  }

  Result<std::vector<CanaryRecord>> recent_crl_canaries(std::size_t limit) override {
    auto st = conn_.prepare(
        "SELECT serial, crl_number, not_before, not_after, revoked_at, der, sealed_key"
        " FROM crl_canaries WHERE purpose = 'crl' ORDER BY crl_number DESC LIMIT $1");
    st.bind(1, static_cast<std::int64_t>(limit));
    return collect(st, [](const Statement& s) {
      CanaryRecord c;
      c.serial = s.blob(0);
      c.purpose = CanaryPurpose::Crl;
      c.crl_number = s.int64(1);
      c.not_before = to_time(s.int64(2));
      c.not_after = to_time(s.int64(3));
      c.revoked_at = to_time(s.int64(4));
      c.der = s.blob(5);
      if (!s.is_null(6))
        c.sealed_key = s.blob(6);
      return c;
    });
  }

  // CRL enforcement
  Status record_crl_enforcement(const CrlEnforcementRecord& e) override {
    auto st = conn_.prepare(
        "INSERT INTO crl_enforcement (endpoint, state, crl_number, last_crl, checked_at, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (endpoint) DO UPDATE SET"
        " state = excluded.state, crl_number = excluded.crl_number,"
        " last_crl = excluded.last_crl, checked_at = excluded.checked_at,"
        " detail = excluded.detail");
    st.bind(1, e.endpoint).bind(2, e.state).bind_opt(3, e.crl_number).bind(4, e.last_crl);
    st.bind(5, secs(e.checked_at)).bind(6, e.detail);
    return st.run();
  }

  Result<std::vector<CrlEnforcementRecord>> list_crl_enforcement() override {
    auto st = conn_.prepare(
        "SELECT endpoint, state, crl_number, last_crl, checked_at, detail FROM crl_enforcement"
        " ORDER BY endpoint");
    return collect(st, [](const Statement& s) {
      CrlEnforcementRecord e;
      e.endpoint = s.text(0);
      e.state = s.text(1);
      if (!s.is_null(2))
        e.crl_number = s.int64(2);
      e.last_crl = s.int64(3);
      e.checked_at = to_time(s.int64(4));
      e.detail = s.text(5);
      return e;
    });
  }

  // CRLs
  Result<std::optional<CrlRecord>> last_crl() override {
    auto st = conn_.prepare(
        "SELECT number, this_update, next_update, der, entries, serials, release_seq,"
        " file_path, file_sha256, publish_state, published_at, publish_error, tickets"
        " FROM crls ORDER BY number DESC LIMIT 1");
    return find_one(st, [](const Statement& s) -> Result<CrlRecord> {
      CrlRecord c;
      c.number = s.int64(0);
      c.this_update = to_time(s.int64(1));
      c.next_update = to_time(s.int64(2));
      c.der = s.blob(3);
      c.entries = s.int64(4);
      c.serials = s.blob(5);
      c.release_seq = s.int64(6);
      c.file_path = s.text(7);
      c.file_sha256 = s.text(8);
      if (!s.is_null(9)) {
        CK_ASSIGN(c.publish, parse_publish_state(s.text_view(9)));
      }
      if (!s.is_null(10))
        c.published_at = to_time(s.int64(10));
      c.publish_error = s.text(11);
      c.tickets = split_tickets(s.text_view(12));
      return c;
    });
  }

  Result<std::int64_t> last_crl_number() override {
    auto st = conn_.prepare("SELECT value FROM counters WHERE name = 'crl_number'");
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return fail(Code::Storage, "database has no CRL number counter");
    return st.int64(0);
  }

  Status insert_crl(const CrlRecord& crl) override {
    // The counter row is locked by this UPDATE until commit: a second
    // builder waits here, then sees this number and must go above it, so
    // numbers are unique and in commit order.
    auto counter =
        conn_.prepare("UPDATE counters SET value = $1 WHERE name = 'crl_number' AND value < $1");
    counter.bind(1, crl.number);
    CK_TRY(counter.run());
    if (counter.changes() != 1) {
      return fail(Code::FailedPrecondition,
                  "CRL number " + std::to_string(crl.number) + " is not above the last one");
    }
    // Only the newest CRL keeps its serial list: the next build checks itself against it.
    auto prune = conn_.prepare(
        "UPDATE crls SET der = NULL, serials = NULL WHERE der IS NOT NULL OR serials IS NOT NULL");
    CK_TRY(prune.run());
    auto st = conn_.prepare(
        "INSERT INTO crls (number, this_update, next_update, entries, serials, file_path,"
        " file_sha256, tickets, publish_state, published_at, release_seq)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
        " (SELECT value FROM counters WHERE name = 'release_seq'))");
    st.bind(1, crl.number).bind(2, secs(crl.this_update)).bind(3, secs(crl.next_update));
    st.bind(4, crl.entries).bind_blob(5, crl.serials);
    st.bind(6, crl.file_path).bind(7, crl.file_sha256).bind(8, join_tickets(crl.tickets));
    if (crl.publish)
      st.bind(9, to_string(*crl.publish));
    else
      st.bind_null(9);
    if (crl.published_at)
      st.bind(10, secs(*crl.published_at));
    else
      st.bind_null(10);
    return st.run();
  }

  Status set_crl_publish(std::int64_t number, PublishState state, Seconds at,
                         std::string_view error) override {
    auto st = conn_.prepare(
        "UPDATE crls SET publish_state = $1, published_at = $2, publish_error = $3"
        " WHERE number = $4");
    st.bind(1, to_string(state)).bind(2, secs(at)).bind(3, error).bind(4, number);
    CK_TRY(st.run());
    if (st.changes() != 1)
      return fail(Code::NotFound, "no CRL #" + std::to_string(number));
    return {};
  }

  Status raise_crl_number(std::int64_t last) override {
    auto st =
        conn_.prepare("UPDATE counters SET value = GREATEST(value, $1) WHERE name = 'crl_number'");
    st.bind(1, last);
    return st.run();
  }

  // Notifications
  Result<bool> notified(std::string_view key, std::string_view channel) override {
    auto st = conn_.prepare("SELECT 1 FROM notifications WHERE key = $1 AND channel = $2");
    st.bind(1, key).bind(2, channel);
    return st.step();
  }

  Result<std::optional<NotificationRecord>> find_notification(std::string_view key,
                                                              std::string_view channel) override {
    auto st = conn_.prepare(CK_PG_NOTIFICATION_SELECT " WHERE key = $1 AND channel = $2");
    st.bind(1, key).bind(2, channel);
    return find_one(st, [](const Statement& s) { return read_notification(s); });
  }

  Status record_notification(const NotificationRecord& n) override {
    auto st = conn_.prepare(
        "INSERT INTO notifications (key, channel, method, at, reference, state, link)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING");
    st.bind(1, n.key).bind(2, n.channel).bind(3, n.method).bind(4, secs(n.at));
    st.bind(5, n.reference).bind(6, to_string(n.state)).bind(7, n.link);
    return st.run();
  }

  Result<std::vector<NotificationRecord>> printed_notifications() override {
    auto st = conn_.prepare(CK_PG_NOTIFICATION_SELECT
                            " WHERE state = 'printed' ORDER BY at, key, channel");
    return collect(st, [](const Statement& s) { return read_notification(s); });
  }

  Result<std::int64_t> forget_notifications(std::string_view key) override {
    auto st = conn_.prepare("DELETE FROM notifications WHERE key = $1");
    st.bind(1, key);
    CK_TRY(st.run());
    return st.changes();
  }

  // Server certificates
  Status insert_server_cert(const ServerCertRecord& r) override {
    auto st = conn_.prepare("INSERT INTO server_certs (" CK_PG_SERVER_CERT_COLUMNS
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                            " ON CONFLICT DO NOTHING");
    st.bind(1, r.name).bind(2, r.version).bind(3, r.source).bind(4, join_domains(r.domains));
    st.bind_blob(5, r.cert_der).bind(6, r.chain_pem).bind(7, r.key_pem);
    st.bind_bool(8, r.key_encrypted).bind(9, secs(r.not_before));
    st.bind(10, secs(r.not_after)).bind(11, secs(r.created_at)).bind(12, r.sha256);
    st.bind(13, r.settings);
    CK_TRY(st.run());
    if (st.changes() == 0) {
      return fail(Code::AlreadyExists, "server certificate '" + r.name + "' version " +
                                           std::to_string(r.version) + " exists already");
    }
    return {};
  }

  Result<std::optional<ServerCertRecord>> find_server_cert(
      std::string_view name, std::optional<std::int64_t> version) override {
    auto st = version ? conn_.prepare("SELECT " CK_PG_SERVER_CERT_COLUMNS
                                      " FROM server_certs WHERE name = $1 AND version = $2")
                      : conn_.prepare("SELECT " CK_PG_SERVER_CERT_COLUMNS
                                      " FROM server_certs WHERE name = $1"
                                      " ORDER BY version DESC LIMIT 1");
    st.bind(1, name);
    if (version)
      st.bind(2, *version);
    return find_one(st, [](const Statement& s) { return read_server_cert(s); });
  }

  Result<std::vector<ServerCertRecord>> list_server_certs() override {
    auto st = conn_.prepare("SELECT DISTINCT ON (name) " CK_PG_SERVER_CERT_COLUMNS
                            " FROM server_certs ORDER BY name, version DESC");
    return collect(st, [](const Statement& s) { return read_server_cert(s); });
  }

  Result<bool> replace_server_cert_key(std::string_view name, std::int64_t version,
                                       std::string_view old_pem, std::string_view new_pem,
                                       bool encrypted) override {
    auto st = conn_.prepare(
        "UPDATE server_certs SET key_pem = $1, key_encrypted = $2 WHERE name = $3 AND version = $4"
        " AND key_pem = $5");
    st.bind(1, new_pem).bind_bool(2, encrypted).bind(3, name).bind(4, version).bind(5, old_pem);
    CK_TRY(st.run());
    return st.changes() == 1;
  }

  // ACME accounts
  Result<std::optional<AcmeAccountRecord>> find_acme_account(std::string_view directory) override {
    auto st = conn_.prepare(
        "SELECT directory, key_pem, key_encrypted, email, created_at FROM acme_accounts"
        " WHERE directory = $1");
    st.bind(1, directory);
    return find_one(st, [](const Statement& s) {
      return AcmeAccountRecord{s.text(0), s.text(1), s.boolean(2), s.text(3), to_time(s.int64(4))};
    });
  }

  Status insert_acme_account(const AcmeAccountRecord& a) override {
    auto st = conn_.prepare(
        "INSERT INTO acme_accounts (directory, key_pem, key_encrypted, email, created_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING");
    st.bind(1, a.directory).bind(2, a.key_pem).bind_bool(3, a.key_encrypted);
    st.bind(4, a.email).bind(5, secs(a.created_at));
    return st.run();
  }

  Result<std::vector<AcmeAccountRecord>> list_acme_accounts() override {
    auto st = conn_.prepare(
        "SELECT directory, key_pem, key_encrypted, email, created_at FROM acme_accounts"
        " ORDER BY directory");
    return collect(st, [](const Statement& s) {
      return AcmeAccountRecord{s.text(0), s.text(1), s.boolean(2), s.text(3), to_time(s.int64(4))};
    });
  }

  Result<bool> replace_acme_account_key(std::string_view directory, std::string_view old_pem,
                                        std::string_view new_pem, bool encrypted) override {
    auto st = conn_.prepare(
        "UPDATE acme_accounts SET key_pem = $1, key_encrypted = $2 WHERE directory = $3"
        " AND key_pem = $4");
    st.bind(1, new_pem).bind_bool(2, encrypted).bind(3, directory).bind(4, old_pem);
    CK_TRY(st.run());
    return st.changes() == 1;
  }

  // Rollout journal
  Result<std::int64_t> insert_rollout(const RolloutRecord& r) override {
    auto st = conn_.prepare(
        "INSERT INTO rollouts (plan, cert_source, cert_sha256, previous_sha256, state,"
        " started_at, finished_at, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id");
    st.bind(1, r.plan).bind(2, r.cert_source).bind(3, r.cert_sha256).bind(4, r.previous_sha256);
    st.bind(5, r.state).bind(6, secs(r.started_at)).bind(8, r.detail);
    if (r.finished_at)
      st.bind(7, secs(*r.finished_at));
    else
      st.bind_null(7);
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return fail(Code::Storage, "inserting a rollout returned no id");
    return st.int64(0);
  }

  Status update_rollout(std::int64_t id, std::string_view state, std::optional<Seconds> finished_at,
                        std::string_view detail) override {
    auto st = conn_.prepare(
        "UPDATE rollouts SET state = $1, finished_at = $2, detail = $3 WHERE id = $4");
    st.bind(1, state).bind(3, detail).bind(4, id);
    if (finished_at)
      st.bind(2, secs(*finished_at));
    else
      st.bind_null(2);
    return st.run();
  }

  Result<std::optional<RolloutRecord>> last_rollout(std::string_view plan) override {
    auto st = conn_.prepare(
        "SELECT id, plan, cert_source, cert_sha256, previous_sha256, state, started_at,"
        " finished_at, detail FROM rollouts WHERE plan = $1 ORDER BY id DESC LIMIT 1");
    st.bind(1, plan);
    return find_one(st, [](const Statement& s) {
      RolloutRecord r;
      r.id = s.int64(0);
      r.plan = s.text(1);
      r.cert_source = s.text(2);
      r.cert_sha256 = s.text(3);
      r.previous_sha256 = s.text(4);
      r.state = s.text(5);
      r.started_at = to_time(s.int64(6));
      if (!s.is_null(7))
        r.finished_at = to_time(s.int64(7));
      r.detail = s.text(8);
      return r;
    });
  }

  Status put_rollout_step(const RolloutStepRecord& s) override {
    auto st = conn_.prepare(
        "INSERT INTO rollout_steps (rollout_id, target, stage, state, at, detail, backup,"
        " backup_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (rollout_id, target) DO UPDATE SET stage = excluded.stage,"
        " state = excluded.state, at = excluded.at, detail = excluded.detail,"
        " backup = excluded.backup, backup_sealed = excluded.backup_sealed");
    st.bind(1, s.rollout_id).bind(2, s.target).bind(3, s.stage).bind(4, s.state);
    st.bind(5, secs(s.at)).bind(6, s.detail).bind_blob(7, s.backup);
    st.bind_bool(8, s.backup_sealed);
    return st.run();
  }

  Result<std::vector<RolloutStepRecord>> rollout_steps(std::int64_t rollout_id) override {
    auto st = conn_.prepare(
        "SELECT rollout_id, target, stage, state, at, detail, backup, backup_sealed"
        " FROM rollout_steps WHERE rollout_id = $1 ORDER BY target");
    st.bind(1, rollout_id);
    return collect(st, [](const Statement& s) {
      return RolloutStepRecord{s.int64(0),          s.text(1), s.text(2), s.text(3),
                               to_time(s.int64(4)), s.text(5), s.blob(6), s.boolean(7)};
    });
  }

  Result<std::vector<RolloutStepRecord>> rollout_steps_with_backup() override {
    auto st = conn_.prepare(
        "SELECT rollout_id, target, stage, state, at, detail, backup, backup_sealed"
        " FROM rollout_steps WHERE length(backup) > 0 ORDER BY rollout_id, target");
    return collect(st, [](const Statement& s) {
      return RolloutStepRecord{s.int64(0),          s.text(1), s.text(2), s.text(3),
                               to_time(s.int64(4)), s.text(5), s.blob(6), s.boolean(7)};
    });
  }

  // Per-user leases
  Result<std::optional<UserLeaseRecord>> find_user_lease(std::string_view user) override {
    auto st = conn_.prepare(
        "SELECT user_name, holder, actor, token, acquired_at, expires_at FROM user_leases"
        " WHERE user_name = $1");
    st.bind(1, user);
    return find_one(st, [](const Statement& s) {
      return UserLeaseRecord{s.text(0), s.text(1),           s.text(2),
                             s.text(3), to_time(s.int64(4)), to_time(s.int64(5))};
    });
  }

  Result<bool> insert_user_lease(const UserLeaseRecord& l) override {
    auto st = conn_.prepare(
        "INSERT INTO user_leases (user_name, holder, actor, token, acquired_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_name) DO NOTHING");
    st.bind(1, l.user).bind(2, l.holder).bind(3, l.actor).bind(4, l.token);
    st.bind(5, secs(l.acquired_at)).bind(6, secs(l.expires_at));
    CK_TRY(st.run());
    return st.changes() == 1;
  }

  Result<bool> replace_user_lease(const UserLeaseRecord& l, std::string_view token) override {
    auto st = conn_.prepare(
        "UPDATE user_leases SET holder = $1, actor = $2, token = $3, acquired_at = $4,"
        " expires_at = $5 WHERE user_name = $6 AND token = $7");
    st.bind(1, l.holder).bind(2, l.actor).bind(3, l.token).bind(4, secs(l.acquired_at));
    st.bind(5, secs(l.expires_at)).bind(6, l.user).bind(7, token);
    CK_TRY(st.run());
    return st.changes() == 1;
  }

  Status delete_user_lease(std::string_view user, std::string_view token) override {
    auto st = conn_.prepare("DELETE FROM user_leases WHERE user_name = $1 AND token = $2");
    st.bind(1, user).bind(2, token);
    return st.run();
  }

  // Audit
  Status audit(const AuditEntry& e) override {
    auto st = conn_.prepare(
        "INSERT INTO audit (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)");
    st.bind(1, secs(e.at)).bind(2, e.actor).bind(3, e.action).bind(4, e.subject).bind(5, e.detail);
    return st.run();
  }

  Result<std::vector<AuditEntry>> audit_of(std::string_view subject) override {
    auto st = conn_.prepare(
        "SELECT at, actor, action, subject, detail FROM audit WHERE subject = $1 ORDER BY id");
    st.bind(1, subject);
    return collect(st, [](const Statement& s) {
      return AuditEntry{to_time(s.int64(0)), s.text(1), s.text(2), s.text(3), s.text(4)};
    });
  }

  Result<std::vector<AuditRow>> audit_page(const AuditQuery& q) override {
    // strpos() finds candidates (no LIKE escaping needed); a mention must
    // also stand as a word of its own (rows::mentions_word).
    auto st = conn_.prepare(
        "SELECT id, at, actor, action, subject, detail FROM audit"
        " WHERE ($1::bigint IS NULL OR id < $1)"
        " AND (($2::text IS NULL AND $3::text IS NULL) OR subject = $2"
        "  OR strpos(upper(subject), upper($3)) > 0 OR strpos(upper(detail), upper($3)) > 0)"
        " ORDER BY id DESC");
    st.bind_opt(1, q.before_id).bind_opt(2, q.subject).bind_opt(3, q.mentions).stream();
    std::vector<AuditRow> out;
    while (out.size() < q.limit) {
      CK_ASSIGN(const bool row, st.step());
      if (!row)
        break;
      AuditRow r{st.int64(0),
                 AuditEntry{to_time(st.int64(1)), st.text(2), st.text(3), st.text(4), st.text(5)}};
      if (q.mentions && r.entry.subject != q.subject &&
          !mentions_word(r.entry.subject, *q.mentions) &&
          !mentions_word(r.entry.detail, *q.mentions)) {
        continue;
      }
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  // The release sequence of this transaction: raised once, at its first
  // release; every release in it shares the value (see the SQLite store).
  Result<std::int64_t> release_seq() {
    if (release_seq_)
      return *release_seq_;
    auto st = conn_.prepare(
        "UPDATE counters SET value = value + 1 WHERE name = 'release_seq' RETURNING value");
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return fail(Code::Storage, "database has no release sequence counter");
    release_seq_ = st.int64(0);
    return *release_seq_;
  }

  Connection& conn_;
  bool open_ = false;
  bool write_ = false;
  std::optional<std::int64_t> release_seq_;
};

// The version recorded in schema_migrations: 0 when the table is missing.
Result<int> current_version(Connection& conn) {
  auto exists = conn.prepare("SELECT to_regclass('schema_migrations') IS NOT NULL");
  CK_TRY(exists.step());
  if (!exists.boolean(0))
    return 0;
  auto st = conn.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  CK_TRY(st.step());
  return static_cast<int>(st.int64(0));
}

}  // namespace

int PostgresStore::schema_version() {
  return static_cast<int>(std::size(kPostgresMigrations));
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& url, OpenMode mode) {
  (void)mode;  // the schema comes from `store migrate`, whatever the command
  CK_ASSIGN(auto conn, Connection::open(url));
  CK_ASSIGN(const int version, current_version(*conn));
  if (version > schema_version()) {
    return fail(Code::FailedPrecondition,
                "database " + conn->describe() + " has schema version " + std::to_string(version) +
                    ", newer than this certkeeper (" + std::to_string(schema_version()) +
                    "); upgrade certkeeper");
  }
  if (version < schema_version()) {
    return fail(Code::FailedPrecondition,
                "database " + conn->describe() + " is at schema version " +
                    std::to_string(version) + (version == 0 ? " (not migrated yet)" : "") +
                    ", this certkeeper needs " + std::to_string(schema_version()) +
                    ": run `certkeeper store migrate --store URL` first");
  }
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(conn)));
}

Result<std::pair<int, int>> PostgresStore::migrate(const std::string& url) {
  CK_ASSIGN(auto conn, Connection::open(url));
  // A session lock: held across the steps' transactions, so a second
  // migrating host waits and then finds nothing left to do.
  auto lock = conn->prepare("SELECT pg_advisory_lock($1)");
  lock.bind(1, kMigrateLock);
  CK_TRY(lock.run());
  CK_TRY(
      conn->exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                 " applied_at BIGINT NOT NULL)"));
  CK_ASSIGN(const int before, current_version(*conn));
  if (before > schema_version()) {
    return fail(Code::FailedPrecondition,
                "database " + conn->describe() + " has schema version " + std::to_string(before) +
                    ", newer than this certkeeper (" + std::to_string(schema_version()) +
                    "); upgrade certkeeper");
  }
  for (int v = before; v < schema_version(); ++v) {
    // One transaction per step, recording its version: a step either
    // happened with its record or not at all.
    CK_TRY(conn->exec("BEGIN"));
    auto applied = conn->exec(kPostgresMigrations[v].text);
    if (applied) {
      auto record = conn->prepare(
          "INSERT INTO schema_migrations (version, applied_at)"
          " VALUES ($1, extract(epoch from now())::bigint)");
      record.bind(1, std::int64_t{v + 1});
      applied = record.run();
    }
    if (applied)
      applied = conn->exec("COMMIT");
    if (!applied) {
      (void)conn->exec("ROLLBACK");
      return fail(std::move(applied).error().context("migrate to schema " + std::to_string(v + 1)));
    }
  }
  auto unlock = conn->prepare("SELECT pg_advisory_unlock($1)");
  unlock.bind(1, kMigrateLock);
  CK_TRY(unlock.run());
  return std::pair{before, schema_version()};
}

Result<std::optional<std::int64_t>> PostgresStore::change_stamp() {
  auto st = conn_->prepare("SELECT value FROM counters WHERE name = 'changes'");
  CK_ASSIGN(const bool row, st.step());
  if (!row)
    return fail(Code::Storage, "database " + conn_->describe() + " has no change counter");
  return std::optional<std::int64_t>(st.int64(0));
}

Result<std::unique_ptr<Tx>> PostgresStore::read() {
  auto tx = std::make_unique<PostgresTx>(*conn_);
  CK_TRY(tx->begin(false));
  return std::unique_ptr<Tx>(std::move(tx));
}

Result<std::unique_ptr<Tx>> PostgresStore::write() {
  auto tx = std::make_unique<PostgresTx>(*conn_);
  CK_TRY(tx->begin(true));
  return std::unique_ptr<Tx>(std::move(tx));
}

Result<std::unique_ptr<TableAccess>> PostgresStore::tables(bool write) {
  return open_tables(*conn_, write);
}

}  // namespace ck::store::postgres
