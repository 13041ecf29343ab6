#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iterator>
#include <type_traits>
#include <unordered_map>

#include "migrations.inc"
#include "store/rows.h"
#include "store/serial_list.h"
#include "store/sqlite/tables.h"

namespace ck::store::sqlite {
namespace {

using namespace rows;  // NOLINT(google-build-using-namespace): the row readers

constexpr const char* kNotificationSelect =
    "SELECT key, channel, method, at, reference, state, link FROM notifications";

constexpr const char* kCertColumns =
    "c.id, c.serial, u.name, c.key_type, c.not_before, c.not_after, c.issued_at, c.der, "
    "c.status, c.superseded_by, c.delivery, c.ticket";

// The same columns with an empty DER, for listings that never show the
// certificate itself (reading it would cost more than the rest of the row).
constexpr const char* kCertSummaryColumns =
    "c.id, c.serial, u.name, c.key_type, c.not_before, c.not_after, c.issued_at, X'', "
    "c.status, c.superseded_by, c.delivery, c.ticket";

// A macro, not a constant: the queries using it must stay string literals.
#define CK_SERVER_CERT_COLUMNS                                                                \
  "name, version, source, domains, cert_der, chain_pem, key_pem, key_encrypted, not_before, " \
  "not_after, created_at, sha256, settings"

#define CK_REV_COLUMNS                                                                      \
  "r.serial, u.name, r.reason, r.state, r.requested_at, r.released_at, r.cause, r.ticket, " \
  "r.not_after, r.replacement, r.final_crl"

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(Connection& conn) : conn_(conn) {}
  ~SqliteTx() override {
    if (open_) {
      conn_.reset_all();
      (void)conn_.exec("ROLLBACK");
    }
  }

  Status begin(bool write) {
    CK_TRY(conn_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
    conn_.clear_failed_statement();
    open_ = true;
    return {};
  }

  Status commit() override {
    CK_TRY(conn_.commit_transaction());
    open_ = false;
    return {};
  }

  Result<std::optional<CaRecord>> find_ca() override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT name, key_type, cert_der, key_pem, key_encrypted, "
                                     "crl_validity_s, created_at, key_uri FROM ca WHERE id = 1"));
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return std::optional<CaRecord>();
    CaRecord ca;
    ca.name = st.text(0);
    ca.key_type = st.text(1);
    ca.cert_der = st.blob(2);
    ca.key_pem = st.text(3);
    ca.key_encrypted = st.int64(4) != 0;
    ca.crl_validity = std::chrono::seconds(st.int64(5));
    ca.created_at = to_time(st.int64(6));
    ca.key_uri = st.text(7);
    return std::optional<CaRecord>(std::move(ca));
  }

  Status insert_ca(const CaRecord& ca) override {
    CK_ASSIGN(
        auto st,
        conn_.prepare("INSERT INTO ca (id, name, key_type, cert_der, key_pem, key_encrypted, "
                      "crl_validity_s, created_at, key_uri) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st.bind(1, ca.name).bind(2, ca.key_type).bind_blob(3, ca.cert_der).bind(4, ca.key_pem);
    st.bind(5, std::int64_t{ca.key_encrypted ? 1 : 0}).bind(6, ca.crl_validity.count());
    st.bind(7, secs(ca.created_at)).bind(8, ca.key_uri);
    return st.run();
  }

  Result<bool> replace_ca_key(std::string_view old_pem, std::string_view new_pem,
                              bool encrypted) override {
    CK_ASSIGN(auto st, conn_.prepare("UPDATE ca SET key_pem = ?, key_encrypted = ? WHERE id = 1"
                                     " AND key_pem = ?"));
    st.bind(1, new_pem).bind(2, std::int64_t{encrypted ? 1 : 0}).bind(3, old_pem);
    CK_TRY(st.run());
    return conn_.changes() == 1;
  }

  Result<std::optional<UserRecord>> find_user(std::string_view name) override {
    CK_ASSIGN(auto st,
              conn_.prepare("SELECT id, name, cn, email, org, ou, locality, state, country, phone, "
                            "created_at, disabled_at FROM users WHERE name = ?"));
    st.bind(1, name);
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return std::optional<UserRecord>();
    return std::optional<UserRecord>(read_user(st));
  }

  Result<std::int64_t> insert_user(const UserProfile& p, Seconds created_at) override {
    CK_ASSIGN(auto found, find_user(p.name));
    if (found) {
      return fail(Code::AlreadyExists, "user '" + p.name + "' exists already");
    }
    CK_ASSIGN(auto st, conn_.prepare(
                           "INSERT INTO users (name, cn, email, org, ou, locality, state, country, "
                           "phone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st.bind(1, p.name).bind(2, p.cn).bind(3, p.email).bind(4, p.org).bind(5, p.ou);
    st.bind(6, p.locality).bind(7, p.state).bind(8, p.country).bind(9, p.phone);
    st.bind(10, secs(created_at));
    CK_TRY(st.run());
    CK_ASSIGN(auto id, conn_.prepare("SELECT last_insert_rowid()"));
    CK_TRY(id.step());
    return id.int64(0);
  }

  Status update_user(const UserProfile& p) override {
    CK_ASSIGN(auto st,
              conn_.prepare("UPDATE users SET cn = ?, email = ?, org = ?, ou = ?, locality = ?, "
                            "state = ?, country = ?, phone = ? WHERE name = ?"));
    st.bind(1, p.cn).bind(2, p.email).bind(3, p.org).bind(4, p.ou).bind(5, p.locality);
    st.bind(6, p.state).bind(7, p.country).bind(8, p.phone).bind(9, p.name);
    CK_TRY(st.run());
    if (conn_.changes() != 1) {
      return fail(Code::NotFound, "unknown user '" + p.name + "'");
    }
    return {};
  }

  Status set_user_disabled(std::string_view name, std::optional<Seconds> at) override {
    CK_ASSIGN(auto st, conn_.prepare("UPDATE users SET disabled_at = ? WHERE name = ?"));
    if (at)
      st.bind(1, secs(*at));
    else
      st.bind_null(1);
    st.bind(2, name);
    CK_TRY(st.run());
    if (conn_.changes() != 1) {
      return fail(Code::NotFound, "unknown user '" + std::string(name) + "'");
    }
    return {};
  }

  Result<std::vector<UserRecord>> list_users() override {
    CK_ASSIGN(auto st,
              conn_.prepare("SELECT id, name, cn, email, org, ou, locality, state, country, phone, "
                            "created_at, disabled_at FROM users ORDER BY name"));
    return collect(st, read_user<Statement>);
  }

  Result<bool> insert_cert(const CertRecord& c) override {
    CK_ASSIGN(auto exists, conn_.prepare("SELECT 1 FROM certificates WHERE serial = ?"));
    exists.bind_blob(1, c.serial);
    CK_ASSIGN(const bool dup, exists.step());
    if (dup)
      return false;
    CK_ASSIGN(auto st,
              conn_.prepare("INSERT INTO certificates (serial, user_id, key_type, not_before, "
                            "not_after, issued_at, der, status, superseded_by, delivery, ticket) "
                            "SELECT ?, id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM users WHERE name = ?"));
    st.bind_blob(1, c.serial).bind(2, c.key_type).bind(3, secs(c.not_before));
    st.bind(4, secs(c.not_after)).bind(5, secs(c.issued_at)).bind_blob(6, c.der);
    st.bind(7, to_string(c.status)).bind_blob_opt(8, c.superseded_by);
    st.bind(9, to_string(c.delivery)).bind(10, c.ticket).bind(11, c.user);
    CK_TRY(st.run());
    if (conn_.changes() != 1) {
      return fail(Code::NotFound, "unknown user '" + c.user + "'");
    }
    return true;
  }

  Result<std::optional<CertRecord>> find_cert(std::string_view serial) override {
    static const std::string sql = std::string("SELECT ") + kCertColumns +
                                   " FROM certificates c JOIN users u ON u.id = c.user_id"
                                   " WHERE c.serial = ?";
    CK_ASSIGN(auto st, conn_.prepare(sql.c_str()));
    st.bind_blob(1, serial);
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return std::optional<CertRecord>();
    CK_ASSIGN(auto cert, read_cert(st));
    return std::optional<CertRecord>(std::move(cert));
  }

  Result<std::optional<CertRecord>> current_cert(std::string_view user) override {
    static const std::string sql = std::string("SELECT ") + kCertColumns +
                                   " FROM certificates c JOIN users u ON u.id = c.user_id"
                                   // Not `status = 'active'`: a row with a
                                   // status this certkeeper does not know
                                   // must fail the read, not leave the user
                                   // without a certificate to supersede.
                                   " WHERE u.name = ? AND c.status NOT IN ('superseded', 'revoked')"
                                   " ORDER BY c.issued_at DESC, c.id DESC LIMIT 1";
    CK_ASSIGN(auto st, conn_.prepare(sql.c_str()));
    st.bind(1, user);
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return std::optional<CertRecord>();
    CK_ASSIGN(auto cert, read_cert(st));
    return std::optional<CertRecord>(std::move(cert));
  }

  Result<std::vector<CertRecord>> certs_of_user(std::string_view user) override {
    static const std::string sql = std::string("SELECT ") + kCertSummaryColumns +
                                   " FROM certificates c JOIN users u ON u.id = c.user_id"
                                   " WHERE u.name = ? ORDER BY c.issued_at, c.id";
    CK_ASSIGN(auto st, conn_.prepare(sql.c_str()));
    st.bind(1, user);
    return collect(st, [](const Statement& s) { return read_cert(s); });
  }

  Status set_cert_status(std::string_view serial, CertStatus status,
                         const std::optional<std::string>& superseded_by) override {
    CK_ASSIGN(
        auto st,
        conn_.prepare("UPDATE certificates SET status = ?, superseded_by = ? WHERE serial = ?"));
    st.bind(1, to_string(status)).bind_blob_opt(2, superseded_by).bind_blob(3, serial);
    CK_TRY(st.run());
    if (conn_.changes() != 1) {
      return fail(Code::NotFound, "unknown certificate");
    }
    return {};
  }

  Status set_delivery(std::string_view serial, Delivery delivery) override {
    CK_ASSIGN(auto st, conn_.prepare("UPDATE certificates SET delivery = ? WHERE serial = ?"));
    st.bind(1, to_string(delivery)).bind_blob(2, serial);
    return st.run();
  }

  Result<std::vector<CertListRow>> list_certs(CertFilter filter, Seconds now) override {
    static const std::string sql = std::string("SELECT ") + kCertSummaryColumns +
                                   ", " CK_REV_COLUMNS ", r.cert_id IS NULL" +
                                   " FROM certificates c JOIN users u ON u.id = c.user_id"
                                   " LEFT JOIN revocations r ON r.cert_id = c.id"
                                   " WHERE (?1 = 0)"
                                   "    OR (?1 = 1 AND c.status = 'active' AND c.not_after > ?2)"
                                   "    OR (?1 = 2 AND c.not_after <= ?2)"
                                   "    OR (?1 = 3 AND r.state = 'released')"
                                   "    OR (?1 = 4 AND r.state = 'held' AND c.not_after > ?2)"
                                   " ORDER BY u.name, c.issued_at, c.id";
    CK_ASSIGN(auto st, conn_.prepare(sql.c_str()));
    st.bind(1, static_cast<std::int64_t>(filter)).bind(2, secs(now));
    return collect(st, [](const Statement& s) -> Result<CertListRow> {
      CertListRow r;
      CK_TRY(read_cert_row(s, r));
      return r;
    });
  }

  Status for_each_expiring(Seconds before,
                           const std::function<void(const CertRecord&)>& fn) override {
    static const std::string sql = std::string("SELECT ") + kCertSummaryColumns +
                                   " FROM certificates c INDEXED BY certificates_active_expiring"
                                   " JOIN users u ON u.id = c.user_id"
                                   " WHERE c.status = 'active' AND c.not_after < ?"
                                   " ORDER BY c.not_after";
    CK_ASSIGN(auto st, conn_.prepare(sql.c_str()));
    st.bind(1, secs(before));
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
    static const std::string sql = std::string("SELECT ") + kCertSummaryColumns +
                                   ", " CK_REV_COLUMNS ", r.cert_id IS NULL" +
                                   " FROM certificates c JOIN users u ON u.id = c.user_id"
                                   " LEFT JOIN revocations r ON r.cert_id = c.id";
    CK_ASSIGN(auto st, conn_.prepare(sql.c_str()));
    return stream_cert_rows(st, [&](const CertListRow& row) {
      fn(row);
      return true;
    });
  }

  Status insert_revocation(const RevocationRecord& r) override {
    std::int64_t seq = 0;
    if (r.state == RevocationState::Released) {
      CK_ASSIGN(seq, release_seq());
    }
    CK_ASSIGN(auto st,
              conn_.prepare("INSERT INTO revocations (cert_id, serial, not_after, user_id, "
                            "reason, state, requested_at, released_at, cause, ticket, "
                            "replacement, final_crl, release_seq) "
                            "SELECT id, serial, not_after, user_id, ?, ?, ?, ?, ?, ?, ?, "
                            "?, ? FROM certificates WHERE serial = ?"));
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
    if (conn_.changes() != 1) {
      return fail(Code::NotFound, "unknown certificate");
    }
    return {};
  }

  Result<std::optional<RevocationRecord>> find_revocation(std::string_view serial) override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT " CK_REV_COLUMNS " FROM revocations r"
                                     " JOIN certificates c ON c.id = r.cert_id"
                                     " JOIN users u ON u.id = c.user_id WHERE r.serial = ?"));
    st.bind_blob(1, serial);
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return std::optional<RevocationRecord>();
    CK_ASSIGN(auto rev, read_revocation(st));
    return std::optional<RevocationRecord>(std::move(rev));
  }

  Result<std::vector<RevocationRecord>> revocations(std::optional<RevocationState> state) override {
    CK_ASSIGN(auto st,
              conn_.prepare("SELECT " CK_REV_COLUMNS " FROM revocations r"
                            " JOIN certificates c ON c.id = r.cert_id"
                            " JOIN users u ON u.id = c.user_id"
                            " WHERE ?1 IS NULL OR r.state = ?1 ORDER BY u.name, r.requested_at"));
    if (state)
      st.bind(1, to_string(*state));
    else
      st.bind_null(1);
    return collect(st, [](const Statement& s) { return read_revocation(s); });
  }

  Result<std::vector<std::string>> release_held(std::string_view user, Seconds at,
                                                ReleaseCause cause) override {
    CK_ASSIGN(const auto seq, release_seq());
    CK_ASSIGN(auto st, conn_.prepare("UPDATE revocations SET state = 'released', released_at = ?,"
                                     " cause = ?, release_seq = ? WHERE state = 'held' AND cert_id"
                                     " IN (SELECT c.id FROM certificates c JOIN users u ON u.id ="
                                     " c.user_id WHERE u.name = ?) RETURNING serial"));
    st.bind(1, secs(at)).bind(2, to_string(cause)).bind(3, seq).bind(4, user);
    return collect(st, [](const Statement& s) { return s.blob(0); });
  }

  Status release_revocation(const RevocationRecord& r) override {
    CK_ASSIGN(const auto seq, release_seq());
    CK_ASSIGN(auto st, conn_.prepare("UPDATE revocations SET state = 'released', reason = ?,"
                                     " released_at = ?, cause = ?, ticket = ?, final_crl = NULL,"
                                     " release_seq = ? WHERE serial = ?"));
    st.bind(1, std::int64_t{r.reason}).bind(2, secs(r.released_at.value_or(r.requested_at)));
    st.bind(3, to_string(r.cause.value_or(ReleaseCause::Immediate))).bind(4, r.ticket);
    st.bind(5, seq).bind_blob(6, r.serial);
    CK_TRY(st.run());
    if (conn_.changes() != 1) {
      return fail(Code::NotFound, "unknown revocation");
    }
    return {};
  }

  Result<std::int64_t> count_released_since(std::optional<std::int64_t> crl_release_seq) override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT count(*) FROM revocations"
                                     " WHERE state = 'released' AND final_crl IS NULL"
                                     " AND release_seq > ?"));
    st.bind(1, crl_release_seq.value_or(-1));
    CK_TRY(st.step());
    return st.int64(0);
  }

  Result<std::int64_t> revocations_upper_bound() override {
    // cert_id is the rowid: the largest is one seek, and no table holds more
    // revocations than certificates were ever issued.
    CK_ASSIGN(auto st, conn_.prepare("SELECT coalesce(max(cert_id), 0) FROM revocations"));
    CK_TRY(st.step());
    return st.int64(0);
  }

  Result<std::vector<std::string>> drop_expired_held(Seconds now) override {
    CK_ASSIGN(auto st, conn_.prepare("UPDATE revocations SET state = 'dropped'"
                                     " WHERE state = 'held' AND not_after <= ? RETURNING serial"));
    st.bind(1, secs(now));
    return collect(st, [](const Statement& s) { return s.blob(0); });
  }

  Status for_each_crl_entry(const std::function<void(const CrlEntry&)>& fn) override {
    // revocations_due covers every column (migration 0016).
    CK_ASSIGN(auto st, conn_.prepare("SELECT serial, released_at, reason, not_after, release_seq,"
                                     " ticket FROM revocations INDEXED BY revocations_due"
                                     " WHERE state = 'released' AND final_crl IS NULL"));
    return stream_crl_entries(st, fn, /*with_release=*/true);
  }

  Status for_each_released_since(std::optional<std::int64_t> crl_release_seq,
                                 const std::function<void(const ReleasedEntry&)>& fn) override {
    // One range over the covering index revocations_new. Names come from a
    // map filled once per user: a join seeks the users table for every row
    // (a tenth of the time of a million-entry first CRL).
    CK_ASSIGN(auto st, conn_.prepare("SELECT r.serial, r.user_id, r.reason, r.ticket"
                                     " FROM revocations r INDEXED BY revocations_new"
                                     " WHERE r.state = 'released' AND r.final_crl IS NULL"
                                     " AND r.release_seq > ?"));
    st.bind(1, crl_release_seq.value_or(-1));
    std::unordered_map<std::int64_t, std::string> names;
    ReleasedEntry e;
    for (;;) {
      CK_ASSIGN(const bool row, st.step());
      if (!row)
        break;
      // Rows without a user id (from before it was kept) are left to the
      // caller's lookup by serial, as a join would leave them out.
      if (st.is_null(1))
        continue;
      const std::int64_t user_id = st.int64(1);
      auto name = names.find(user_id);
      if (name == names.end()) {
        CK_ASSIGN(auto name_of, conn_.prepare("SELECT name FROM users WHERE id = ?"));
        name_of.bind(1, user_id);
        CK_ASSIGN(const bool found, name_of.step());
        if (!found)
          continue;
        name = names.emplace(user_id, name_of.text(0)).first;
      }
      e.serial.assign(st.blob_view(0));
      e.user.assign(name->second);
      e.reason = static_cast<int>(st.int64(2));
      e.ticket.assign(st.text_view(3));
      fn(e);
    }
    return {};
  }

  Status mark_final_crl(Seconds this_update, std::int64_t number) override {
    CK_ASSIGN(auto st,
              conn_.prepare("UPDATE revocations SET final_crl = ?"
                            " WHERE state = 'released' AND final_crl IS NULL AND not_after < ?"));
    st.bind(1, number).bind(2, secs(this_update));
    CK_TRY(st.run());
    CK_ASSIGN(auto canaries, conn_.prepare("UPDATE crl_canaries SET final_crl = ?"
                                           " WHERE final_crl IS NULL AND not_after < ?"));
    canaries.bind(1, number).bind(2, secs(this_update));
    return canaries.run();
  }

  Status insert_canary(const CanaryRecord& c) override {
    CK_ASSIGN(auto st, conn_.prepare("INSERT INTO crl_canaries (serial, purpose, crl_number,"
                                     " not_before, not_after, revoked_at, der, sealed_key)"
                                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    st.bind_blob(1, c.serial).bind(2, to_string(c.purpose));
    if (c.crl_number)
      st.bind(3, *c.crl_number);
    else
      st.bind_null(3);
    st.bind(4, secs(c.not_before)).bind(5, secs(c.not_after)).bind(6, secs(c.revoked_at));
    st.bind_blob(7, c.der);
    if (c.sealed_key.empty())
      st.bind_null(8);
    else
      st.bind_blob(8, c.sealed_key);
    return st.run();
  }

  Status for_each_canary_entry(const std::function<void(const CrlEntry&)>& fn) override {
    // Reason 0: unspecified (no reason extension).
    CK_ASSIGN(auto st, conn_.prepare("SELECT serial, revoked_at, 0, not_after FROM crl_canaries"
                                     " WHERE final_crl IS NULL ORDER BY serial"));
    return stream_crl_entries(st, fn);
  }

  Result<bool> insert_published_revocation(const CrlEntry& e, std::int64_t crl_number,
                                           Seconds at) override {
    CK_ASSIGN(auto st, conn_.prepare("INSERT INTO published_revocations (serial, revoked_at,"
                                     " reason, crl_number, imported_at) VALUES (?, ?, ?, ?, ?)"
                                     " ON CONFLICT (serial) DO NOTHING"));
    st.bind_blob(1, e.serial).bind(2, secs(e.revoked_at)).bind(3, std::int64_t{e.reason});
    st.bind(4, crl_number).bind(5, secs(at));
    CK_TRY(st.run());
    return conn_.changes() > 0;
  }

  Status for_each_published_revocation(const std::function<void(const CrlEntry&)>& fn) override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT serial, revoked_at, reason, 0"
                                     " FROM published_revocations ORDER BY serial"));
    return stream_crl_entries(st, fn);
  }

  Result<std::vector<std::string>> canary_serials() override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT serial FROM crl_canaries"));
    return collect(st, [](const Statement& s) { return s.blob(0); });
  }

  Result<std::vector<CanaryRecord>> list_canaries() override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT serial, purpose, crl_number, not_before, not_after,"
                                     " revoked_at, final_crl FROM crl_canaries"
                                     " ORDER BY revoked_at, rowid"));
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
    CK_ASSIGN(auto st, conn_.prepare("SELECT serial, crl_number, not_before, not_after,"
                                     " revoked_at, der, sealed_key FROM crl_canaries"
                                     " WHERE purpose = 'crl' ORDER BY crl_number DESC LIMIT ?"));
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

  Status record_crl_enforcement(const CrlEnforcementRecord& e) override {
    CK_ASSIGN(auto st, conn_.prepare("INSERT OR REPLACE INTO crl_enforcement (endpoint, state,"
                                     " crl_number, last_crl, checked_at, detail)"
                                     " VALUES (?, ?, ?, ?, ?, ?)"));
    st.bind(1, e.endpoint).bind(2, e.state);
    if (e.crl_number)
      st.bind(3, *e.crl_number);
    else
      st.bind_null(3);
    st.bind(4, e.last_crl).bind(5, secs(e.checked_at)).bind(6, e.detail);
    return st.run();
  }

  Result<std::vector<CrlEnforcementRecord>> list_crl_enforcement() override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT endpoint, state, crl_number, last_crl, checked_at,"
                                     " detail FROM crl_enforcement ORDER BY endpoint"));
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

  Result<std::optional<CrlRecord>> last_crl() override {
    CK_ASSIGN(auto st,
              conn_.prepare("SELECT number, this_update, next_update, der, entries, serials,"
                            " release_seq, file_path, file_sha256, publish_state, published_at,"
                            " publish_error, tickets FROM crls ORDER BY number DESC LIMIT 1"));
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return std::optional<CrlRecord>();
    CrlRecord c;
    c.number = st.int64(0);
    c.this_update = to_time(st.int64(1));
    c.next_update = to_time(st.int64(2));
    c.der = st.blob(3);
    c.entries = st.int64(4);
    c.serials = st.blob(5);
    c.release_seq = st.int64(6);
    c.file_path = st.text(7);
    c.file_sha256 = st.text(8);
    if (!st.is_null(9)) {
      CK_ASSIGN(c.publish, parse_publish_state(st.text(9)));
    }
    if (!st.is_null(10))
      c.published_at = to_time(st.int64(10));
    c.publish_error = st.text(11);
    c.tickets = split_tickets(st.text_view(12));
    return std::optional<CrlRecord>(std::move(c));
  }

  Result<std::int64_t> last_crl_number() override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT value FROM counters WHERE name = 'crl_number'"));
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return fail(Code::Storage, "database has no CRL number counter");
    return st.int64(0);
  }

  Status insert_crl(const CrlRecord& crl) override {
    CK_ASSIGN(auto counter, conn_.prepare("UPDATE counters SET value = ?1 WHERE name = 'crl_number'"
                                          " AND value < ?1"));
    counter.bind(1, crl.number);
    CK_TRY(counter.run());
    if (conn_.changes() != 1) {
      return fail(Code::FailedPrecondition,
                  "CRL number " + std::to_string(crl.number) + " is not above the last one");
    }
    // Only the newest CRL keeps its serial list: it is what the next build
    // checks itself against.
    CK_ASSIGN(auto prune, conn_.prepare("UPDATE crls SET der = NULL, serials = NULL"
                                        " WHERE der IS NOT NULL OR serials IS NOT NULL"));
    CK_TRY(prune.run());
    CK_ASSIGN(auto st,
              conn_.prepare("INSERT INTO crls (number, this_update, next_update, entries, serials,"
                            " file_path, file_sha256, tickets, publish_state, published_at,"
                            " release_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                            " (SELECT value FROM counters WHERE name = 'release_seq'))"));
    st.bind(1, crl.number).bind(2, secs(crl.this_update)).bind(3, secs(crl.next_update));
    st.bind(4, crl.entries).bind_blob_no_copy(5, crl.serials);
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
    CK_ASSIGN(auto st, conn_.prepare("UPDATE crls SET publish_state = ?, published_at = ?,"
                                     " publish_error = ? WHERE number = ?"));
    st.bind(1, to_string(state)).bind(2, secs(at)).bind(3, error).bind(4, number);
    CK_TRY(st.run());
    if (conn_.changes() != 1) {
      return fail(Code::NotFound, "no CRL #" + std::to_string(number));
    }
    return {};
  }

  Status raise_crl_number(std::int64_t last) override {
    CK_ASSIGN(auto st,
              conn_.prepare("UPDATE counters SET value = max(value, ?) WHERE name = 'crl_number'"));
    st.bind(1, last);
    return st.run();
  }

  Status set_cert_ticket(std::string_view serial, std::string_view ticket) override {
    CK_ASSIGN(auto st, conn_.prepare("UPDATE certificates SET ticket = ? WHERE serial = ?"));
    st.bind(1, ticket).bind_blob(2, serial);
    return st.run();
  }

  Result<bool> notified(std::string_view key, std::string_view channel) override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT 1 FROM notifications WHERE key = ? AND channel = ?"));
    st.bind(1, key).bind(2, channel);
    return st.step();
  }

  Result<std::optional<NotificationRecord>> find_notification(std::string_view key,
                                                              std::string_view channel) override {
    static const std::string sql =
        std::string(kNotificationSelect) + " WHERE key = ? AND channel = ?";
    CK_ASSIGN(auto st, conn_.prepare(sql.c_str()));
    st.bind(1, key).bind(2, channel);
    CK_ASSIGN(const bool found, st.step());
    if (!found)
      return std::optional<NotificationRecord>();
    CK_ASSIGN(auto record, read_notification(st));
    return std::optional<NotificationRecord>(std::move(record));
  }

  Status record_notification(const NotificationRecord& n) override {
    CK_ASSIGN(auto st, conn_.prepare("INSERT INTO notifications (key, channel, method, at, "
                                     "reference, state, link) VALUES (?, ?, ?, ?, ?, ?, ?)"
                                     " ON CONFLICT DO NOTHING"));
    st.bind(1, n.key).bind(2, n.channel).bind(3, n.method).bind(4, secs(n.at)).bind(5, n.reference);
    st.bind(6, to_string(n.state)).bind(7, n.link);
    return st.run();
  }

  Result<std::vector<NotificationRecord>> printed_notifications() override {
    static const std::string sql = std::string(kNotificationSelect) +
                                   " INDEXED BY notifications_printed"
                                   " WHERE state = 'printed' ORDER BY at, key, channel";
    CK_ASSIGN(auto st, conn_.prepare(sql.c_str()));
    return collect(st, read_notification<Statement>);
  }

  Result<std::int64_t> forget_notifications(std::string_view key) override {
    CK_ASSIGN(auto st, conn_.prepare("DELETE FROM notifications WHERE key = ?"));
    st.bind(1, key);
    CK_TRY(st.run());
    return conn_.changes();
  }

  Status insert_server_cert(const ServerCertRecord& r) override {
    CK_ASSIGN(auto st,
              conn_.prepare("INSERT INTO server_certs (name, version, source, domains, cert_der, "
                            "chain_pem, key_pem, key_encrypted, not_before, not_after, created_at, "
                            "sha256, settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                            " ON CONFLICT DO NOTHING"));
    st.bind(1, r.name).bind(2, r.version).bind(3, r.source).bind(4, join_domains(r.domains));
    st.bind_blob(5, r.cert_der).bind(6, r.chain_pem).bind(7, r.key_pem);
    st.bind(8, std::int64_t{r.key_encrypted ? 1 : 0}).bind(9, secs(r.not_before));
    st.bind(10, secs(r.not_after)).bind(11, secs(r.created_at)).bind(12, r.sha256);
    st.bind(13, r.settings);
    CK_TRY(st.run());
    if (conn_.changes() == 0) {
      return fail(Code::AlreadyExists, "server certificate '" + r.name + "' version " +
                                           std::to_string(r.version) + " exists already");
    }
    return {};
  }

  Result<std::optional<ServerCertRecord>> find_server_cert(
      std::string_view name, std::optional<std::int64_t> version) override {
    // Literals only: prepare() caches statements by the SQL text's address.
    CK_ASSIGN(auto st, version ? conn_.prepare("SELECT " CK_SERVER_CERT_COLUMNS
                                               " FROM server_certs WHERE name = ? AND version = ?")
                               : conn_.prepare("SELECT " CK_SERVER_CERT_COLUMNS
                                               " FROM server_certs WHERE name = ?"
                                               " ORDER BY version DESC LIMIT 1"));
    st.bind(1, name);
    if (version)
      st.bind(2, *version);
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return std::optional<ServerCertRecord>();
    return std::optional<ServerCertRecord>(read_server_cert(st));
  }

  Result<std::vector<ServerCertRecord>> list_server_certs() override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT " CK_SERVER_CERT_COLUMNS
                                     " FROM server_certs s WHERE version = (SELECT MAX(version)"
                                     " FROM server_certs WHERE name = s.name) ORDER BY name"));
    return collect(st, read_server_cert<Statement>);
  }

  Result<bool> replace_server_cert_key(std::string_view name, std::int64_t version,
                                       std::string_view old_pem, std::string_view new_pem,
                                       bool encrypted) override {
    CK_ASSIGN(auto st, conn_.prepare("UPDATE server_certs SET key_pem = ?, key_encrypted = ?"
                                     " WHERE name = ? AND version = ? AND key_pem = ?"));
    st.bind(1, new_pem).bind(2, std::int64_t{encrypted ? 1 : 0}).bind(3, name).bind(4, version);
    st.bind(5, old_pem);
    CK_TRY(st.run());
    return conn_.changes() == 1;
  }

  Result<std::optional<AcmeAccountRecord>> find_acme_account(std::string_view directory) override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT directory, key_pem, key_encrypted, email, created_at"
                                     " FROM acme_accounts WHERE directory = ?"));
    st.bind(1, directory);
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return std::optional<AcmeAccountRecord>();
    return std::optional<AcmeAccountRecord>(AcmeAccountRecord{
        st.text(0), st.text(1), st.int64(2) != 0, st.text(3), to_time(st.int64(4))});
  }

  Status insert_acme_account(const AcmeAccountRecord& a) override {
    CK_ASSIGN(auto st, conn_.prepare("INSERT INTO acme_accounts (directory, key_pem, key_encrypted,"
                                     " email, created_at) VALUES (?, ?, ?, ?, ?)"
                                     " ON CONFLICT DO NOTHING"));
    st.bind(1, a.directory).bind(2, a.key_pem).bind(3, std::int64_t{a.key_encrypted ? 1 : 0});
    st.bind(4, a.email).bind(5, secs(a.created_at));
    return st.run();
  }

  Result<std::vector<AcmeAccountRecord>> list_acme_accounts() override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT directory, key_pem, key_encrypted, email, created_at"
                                     " FROM acme_accounts ORDER BY directory"));
    return collect(st, [](const Statement& s) {
      return AcmeAccountRecord{s.text(0), s.text(1), s.int64(2) != 0, s.text(3),
                               to_time(s.int64(4))};
    });
  }

  Result<bool> replace_acme_account_key(std::string_view directory, std::string_view old_pem,
                                        std::string_view new_pem, bool encrypted) override {
    CK_ASSIGN(auto st, conn_.prepare("UPDATE acme_accounts SET key_pem = ?, key_encrypted = ?"
                                     " WHERE directory = ? AND key_pem = ?"));
    st.bind(1, new_pem).bind(2, std::int64_t{encrypted ? 1 : 0}).bind(3, directory);
    st.bind(4, old_pem);
    CK_TRY(st.run());
    return conn_.changes() == 1;
  }

  Result<std::int64_t> insert_rollout(const RolloutRecord& r) override {
    CK_ASSIGN(auto st, conn_.prepare("INSERT INTO rollouts (plan, cert_source, cert_sha256,"
                                     " previous_sha256, state, started_at, finished_at, detail)"
                                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    st.bind(1, r.plan).bind(2, r.cert_source).bind(3, r.cert_sha256).bind(4, r.previous_sha256);
    st.bind(5, r.state).bind(6, secs(r.started_at)).bind(8, r.detail);
    if (r.finished_at)
      st.bind(7, secs(*r.finished_at));
    else
      st.bind_null(7);
    CK_TRY(st.run());
    return conn_.last_insert_rowid();
  }

  Status update_rollout(std::int64_t id, std::string_view state, std::optional<Seconds> finished_at,
                        std::string_view detail) override {
    CK_ASSIGN(auto st, conn_.prepare("UPDATE rollouts SET state = ?, finished_at = ?, detail = ?"
                                     " WHERE id = ?"));
    st.bind(1, state).bind(3, detail).bind(4, id);
    if (finished_at)
      st.bind(2, secs(*finished_at));
    else
      st.bind_null(2);
    return st.run();
  }

  Result<std::optional<RolloutRecord>> last_rollout(std::string_view plan) override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT id, plan, cert_source, cert_sha256, previous_sha256,"
                                     " state, started_at, finished_at, detail FROM rollouts"
                                     " WHERE plan = ? ORDER BY id DESC LIMIT 1"));
    st.bind(1, plan);
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return std::optional<RolloutRecord>();
    RolloutRecord r;
    r.id = st.int64(0);
    r.plan = st.text(1);
    r.cert_source = st.text(2);
    r.cert_sha256 = st.text(3);
    r.previous_sha256 = st.text(4);
    r.state = st.text(5);
    r.started_at = to_time(st.int64(6));
    if (!st.is_null(7))
      r.finished_at = to_time(st.int64(7));
    r.detail = st.text(8);
    return std::optional<RolloutRecord>(std::move(r));
  }

  Status put_rollout_step(const RolloutStepRecord& s) override {
    CK_ASSIGN(auto st, conn_.prepare("INSERT OR REPLACE INTO rollout_steps (rollout_id, target,"
                                     " stage, state, at, detail, backup, backup_sealed)"
                                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    st.bind(1, s.rollout_id).bind(2, s.target).bind(3, s.stage).bind(4, s.state);
    st.bind(5, secs(s.at)).bind(6, s.detail).bind_blob(7, s.backup);
    st.bind(8, std::int64_t{s.backup_sealed ? 1 : 0});
    return st.run();
  }

  Result<std::vector<RolloutStepRecord>> rollout_steps(std::int64_t rollout_id) override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT rollout_id, target, stage, state, at, detail, backup,"
                                     " backup_sealed FROM rollout_steps WHERE rollout_id = ?"));
    st.bind(1, rollout_id);
    return collect(st, [](const Statement& s) {
      return RolloutStepRecord{s.int64(0),          s.text(1), s.text(2), s.text(3),
                               to_time(s.int64(4)), s.text(5), s.blob(6), s.int64(7) != 0};
    });
  }

  Result<std::vector<RolloutStepRecord>> rollout_steps_with_backup() override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT rollout_id, target, stage, state, at, detail, backup,"
                                     " backup_sealed FROM rollout_steps WHERE length(backup) > 0"
                                     " ORDER BY rollout_id, target"));
    return collect(st, [](const Statement& s) {
      return RolloutStepRecord{s.int64(0),          s.text(1), s.text(2), s.text(3),
                               to_time(s.int64(4)), s.text(5), s.blob(6), s.int64(7) != 0};
    });
  }

  Result<std::optional<UserLeaseRecord>> find_user_lease(std::string_view user) override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT user_name, holder, actor, token, acquired_at, "
                                     "expires_at FROM user_leases WHERE user_name = ?"));
    st.bind(1, user);
    return find_one(st, [](const Statement& s) {
      return UserLeaseRecord{s.text(0), s.text(1),           s.text(2),
                             s.text(3), to_time(s.int64(4)), to_time(s.int64(5))};
    });
  }

  Result<bool> insert_user_lease(const UserLeaseRecord& l) override {
    CK_ASSIGN(auto st, conn_.prepare("INSERT INTO user_leases (user_name, holder, actor, token, "
                                     "acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)"
                                     " ON CONFLICT (user_name) DO NOTHING"));
    st.bind(1, l.user).bind(2, l.holder).bind(3, l.actor).bind(4, l.token);
    st.bind(5, secs(l.acquired_at)).bind(6, secs(l.expires_at));
    CK_TRY(st.run());
    return conn_.changes() == 1;
  }

  Result<bool> replace_user_lease(const UserLeaseRecord& l, std::string_view token) override {
    CK_ASSIGN(auto st, conn_.prepare("UPDATE user_leases SET holder = ?, actor = ?, token = ?, "
                                     "acquired_at = ?, expires_at = ? WHERE user_name = ? AND "
                                     "token = ?"));
    st.bind(1, l.holder).bind(2, l.actor).bind(3, l.token).bind(4, secs(l.acquired_at));
    st.bind(5, secs(l.expires_at)).bind(6, l.user).bind(7, token);
    CK_TRY(st.run());
    return conn_.changes() == 1;
  }

  Status delete_user_lease(std::string_view user, std::string_view token) override {
    CK_ASSIGN(auto st, conn_.prepare("DELETE FROM user_leases WHERE user_name = ? AND token = ?"));
    st.bind(1, user).bind(2, token);
    return st.run();
  }

  Status audit(const AuditEntry& e) override {
    CK_ASSIGN(auto st, conn_.prepare("INSERT INTO audit (at, actor, action, subject, detail)"
                                     " VALUES (?, ?, ?, ?, ?)"));
    st.bind(1, secs(e.at)).bind(2, e.actor).bind(3, e.action).bind(4, e.subject).bind(5, e.detail);
    return st.run();
  }

  Result<std::vector<AuditEntry>> audit_of(std::string_view subject) override {
    CK_ASSIGN(auto st, conn_.prepare("SELECT at, actor, action, subject, detail FROM audit"
                                     " WHERE subject = ? ORDER BY id"));
    st.bind(1, subject);
    return collect(st, [](const Statement& s) {
      return AuditEntry{to_time(s.int64(0)), s.text(1), s.text(2), s.text(3), s.text(4)};
    });
  }

  // serve's JSON API (issue 18).
  Status for_each_cert_after(std::int64_t after_id, std::optional<Seconds> not_after_max,
                             const std::function<bool(const CertListRow&)>& fn) override {
    static const std::string sql = std::string("SELECT ") + kCertSummaryColumns +
                                   ", " CK_REV_COLUMNS ", r.cert_id IS NULL" +
                                   " FROM certificates c JOIN users u ON u.id = c.user_id"
                                   " LEFT JOIN revocations r ON r.cert_id = c.id"
                                   " WHERE c.id > ?1 AND (?2 IS NULL OR c.not_after <= ?2)"
                                   " ORDER BY c.id";
    CK_ASSIGN(auto st, conn_.prepare(sql.c_str()));
    st.bind(1, after_id);
    if (not_after_max)
      st.bind(2, secs(*not_after_max));
    else
      st.bind_null(2);
    return stream_cert_rows(st, fn);
  }

  Status for_each_cert_by_expiry(const std::optional<std::pair<Seconds, std::string>>& after,
                                 const std::function<bool(const CertListRow&)>& fn) override {
    // Serials are compared as blobs (bytes, then length): the order of
    // their upper-case hex, which the page's cursor carries. Two statements,
    // not "?1 IS NULL OR ...": with the OR, SQLite scans the index from its
    // start on every later page instead of seeking to the cursor.
    static const std::string select = std::string("SELECT ") + kCertSummaryColumns +
                                      ", " CK_REV_COLUMNS ", r.cert_id IS NULL" +
                                      " FROM certificates c INDEXED BY certificates_expiry"
                                      " JOIN users u ON u.id = c.user_id"
                                      " LEFT JOIN revocations r ON r.cert_id = c.id";
    static const std::string first = select + " ORDER BY c.not_after, c.serial";
    static const std::string later =
        select + " WHERE (c.not_after, c.serial) > (?1, ?2) ORDER BY c.not_after, c.serial";
    CK_ASSIGN(auto st, conn_.prepare(after ? later.c_str() : first.c_str()));
    if (after) {
      st.bind(1, secs(after->first));
      st.bind_blob(2, after->second);
    }
    return stream_cert_rows(st, fn);
  }

  Result<std::vector<UserRecord>> users_after(std::string_view after, std::size_t limit) override {
    CK_ASSIGN(auto st,
              conn_.prepare("SELECT id, name, cn, email, org, ou, locality, state, country, phone, "
                            "created_at, disabled_at FROM users WHERE name > ? ORDER BY name "
                            "LIMIT ?"));
    st.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
    return collect(st, read_user<Statement>);
  }

  Result<std::vector<AuditRow>> audit_page(const AuditQuery& q) override {
    // instr() finds candidates (no LIKE escaping needed); a mention must
    // also stand as a word of its own: serial "01" is not in "2026-01-05".
    CK_ASSIGN(auto st, conn_.prepare("SELECT id, at, actor, action, subject, detail FROM audit"
                                     " WHERE (?1 IS NULL OR id < ?1)"
                                     " AND ((?2 IS NULL AND ?3 IS NULL) OR subject = ?2"
                                     "  OR instr(upper(subject), upper(?3)) > 0"
                                     "  OR instr(upper(detail), upper(?3)) > 0)"
                                     " ORDER BY id DESC"));
    st.bind_opt(1, q.before_id).bind_opt(2, q.subject).bind_opt(3, q.mentions);
    std::vector<AuditRow> out;
    while (out.size() < q.limit) {
      CK_ASSIGN(const bool more, st.step());
      if (!more)
        break;
      AuditRow row{st.int64(0), AuditEntry{to_time(st.int64(1)), st.text(2), st.text(3), st.text(4),
                                           st.text(5)}};
      if (q.mentions && row.entry.subject != q.subject &&
          !mentions_word(row.entry.subject, *q.mentions) &&
          !mentions_word(row.entry.detail, *q.mentions)) {
        continue;
      }
      out.push_back(std::move(row));
    }
    return out;
  }

 private:
  // The release sequence of this transaction: the counter is raised once, at
  // its first release, and every release in it shares the value (they are
  // committed together, so no CRL can hold some of them and not others).
  Result<std::int64_t> release_seq() {
    if (release_seq_)
      return *release_seq_;
    CK_ASSIGN(auto st, conn_.prepare("UPDATE counters SET value = value + 1"
                                     " WHERE name = 'release_seq' RETURNING value"));
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return fail(Code::Storage, "database has no release sequence counter");
    release_seq_ = st.int64(0);
    CK_TRY(st.step());  // runs the statement to its end
    return *release_seq_;
  }

  Connection& conn_;
  bool open_ = false;
  std::optional<std::int64_t> release_seq_;
};

}  // namespace

// The schema that brought counters.release_seq (0008_publish_...sql).
constexpr std::int64_t kReleaseSeqSchema = 8;

int SqliteStore::schema_version() {
  return static_cast<int>(std::size(kMigrations));
}

Result<int> SqliteStore::version_of(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return 0;
  CK_ASSIGN(auto conn, Connection::open(path, false));
  CK_ASSIGN(auto version, conn->prepare("PRAGMA user_version"));
  CK_TRY(version.step());
  const auto v = version.int64(0);
  conn->reset_all();
  return static_cast<int>(v);
}

Result<std::string> SqliteStore::integrity_of(const std::string& path) {
  CK_ASSIGN(auto conn, Connection::open(path, false));
  CK_ASSIGN(auto check, conn->prepare("PRAGMA integrity_check(10)"));
  std::string found;
  for (;;) {
    auto row = check.step();
    if (!row) {
      conn->reset_all();
      return fail(std::move(row).error().context("'" + path + "'"));
    }
    if (!*row)
      break;
    found += (found.empty() ? "" : "; ") + check.text(0);
  }
  conn->reset_all();
  return found;
}

Status SqliteStore::make_standalone(const std::string& path) {
  CK_ASSIGN(auto conn, Connection::open(path, false));
  CK_ASSIGN(auto mode, conn->prepare("PRAGMA journal_mode = DELETE"));
  CK_ASSIGN(const bool row, mode.step());
  const std::string now = row ? mode.text(0) : std::string();
  conn->reset_all();
  if (now != "delete")
    return fail(Code::Storage, "'" + path + "': journal mode stays '" + now + "'");
  return {};
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path, OpenMode mode) {
  CK_ASSIGN(auto conn, Connection::open(path, mode == OpenMode::Create));
  auto store = std::unique_ptr<SqliteStore>(new SqliteStore(std::move(conn)));
  if (mode == OpenMode::Existing) {
    // A file holding neither a CA nor a server certificate is no store
    // either (see is_blank); looked at before migrate() so nothing is
    // written to it.
    CK_ASSIGN(const bool blank, store->is_blank());
    if (blank)
      return fail(Code::NotFound, "'" + path + "' holds no CA and no server certificate");
  }
  CK_TRY(store->migrate());
  return store;
}

Result<bool> SqliteStore::is_blank() {
  // Neither a CA nor a server certificate: nothing a reading command could
  // report on. Such a file is left by an earlier version's read command, or by
  // a first command that failed after creating it. Read without writing, in
  // any schema version (server_certs came with schema 6).
  CK_ASSIGN(auto tables, conn_->prepare("SELECT name FROM sqlite_master WHERE type = 'table'"
                                        " AND name IN ('ca', 'server_certs')"));
  CK_ASSIGN(const auto names, collect(tables, [](const Statement& st) { return st.text(0); }));
  bool holds = false;
  for (const auto& name : names) {
    CK_ASSIGN(auto any,
              conn_->prepare(name == "ca" ? "SELECT EXISTS (SELECT 1 FROM ca)"
                                          : "SELECT EXISTS (SELECT 1 FROM server_certs)"));
    CK_TRY(any.step());
    holds = holds || any.int64(0) != 0;
  }
  conn_->reset_all();
  return !holds;
}

Status SqliteStore::settle_migrated_release_seq() {
  // Migration 0008 counts a row released at or after the last CRL's
  // thisUpdate as "released since"; one released in the same second as that
  // build may be in it. The CRL's serial list says which are.
  CK_ASSIGN(auto last, conn_->prepare("SELECT serials FROM crls WHERE serials IS NOT NULL"
                                      " ORDER BY number DESC LIMIT 1"));
  CK_ASSIGN(const bool row, last.step());
  if (!row)
    return {};
  const std::string packed = last.blob(0);
  CK_ASSIGN(const auto listed, unpack_serials(packed));
  CK_ASSIGN(auto marked, conn_->prepare("SELECT serial FROM revocations WHERE release_seq = 1"));
  CK_ASSIGN(const auto candidates, collect(marked, [](const Statement& st) { return st.blob(0); }));
  for (const auto& serial : candidates) {
    if (!std::binary_search(listed.begin(), listed.end(), std::string_view(serial)))
      continue;
    CK_ASSIGN(auto in_crl,
              conn_->prepare("UPDATE revocations SET release_seq = 0 WHERE serial = ?"));
    in_crl.bind_blob(1, serial);
    CK_TRY(in_crl.run());
  }
  return {};
}

Status SqliteStore::migrate() {
  // journal_mode=WAL lets readers run beside the one writer; it persists in
  // the file, so this is a no-op after the first open.
  // journal_size_limit: after a checkpoint the WAL is cut back to 64 MiB
  // instead of keeping the size of the largest transaction (a CRL of a
  // million entries writes 50 MB).
  CK_TRY(
      conn_->exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA journal_size_limit "
                  "= 67108864;"));
  CK_ASSIGN(auto mode, conn_->prepare("PRAGMA journal_mode = WAL"));
  CK_TRY(mode.step());
  CK_ASSIGN(auto check, conn_->prepare("PRAGMA user_version"));
  CK_TRY(check.step());
  const bool up_to_date = check.int64(0) == schema_version();
  conn_->reset_all();
  if (up_to_date) {
    return {};
  }
  // Two processes may open a new home at once: take the write lock, then
  // look again.
  CK_TRY(conn_->exec("BEGIN IMMEDIATE"));
  auto rollback = [&](Error e) {
    conn_->reset_all();
    (void)conn_->exec("ROLLBACK");
    return fail(std::move(e));
  };
  auto version = conn_->prepare("PRAGMA user_version");
  if (!version)
    return rollback(version.error());
  auto has = version->step();
  if (!has)
    return rollback(has.error());
  const auto current = version->int64(0);
  if (current > schema_version()) {
    return rollback(Error{Code::FailedPrecondition,
                          "database '" + conn_->path() + "' has schema version " +
                              std::to_string(current) + ", newer than this certkeeper (" +
                              std::to_string(schema_version()) + "); upgrade certkeeper",
                          {}});
  }
  if (current == 0) {
    auto tables = conn_->prepare("SELECT count(*) FROM sqlite_master");
    if (!tables)
      return rollback(tables.error());
    auto ok = tables->step();
    if (!ok)
      return rollback(ok.error());
    if (tables->int64(0) != 0) {
      return rollback(Error{
          Code::Storage, "database '" + conn_->path() + "' is not a certkeeper database", {}});
    }
  }
  // No statement may stay active while the schema changes (DROP needs that).
  conn_->reset_all();
  for (auto v = current; v < schema_version(); ++v) {
    auto st = conn_->exec(kMigrations[v].text);
    if (!st)
      return rollback(std::move(st).error().context("migrate to schema " + std::to_string(v + 1)));
    if (v + 1 == kReleaseSeqSchema && current > 0) {
      if (auto settled = settle_migrated_release_seq(); !settled)
        return rollback(std::move(settled).error().context("migrate to schema 8"));
      conn_->reset_all();  // its statements, before a later step drops anything
    }
  }
  const std::string set = "PRAGMA user_version = " + std::to_string(schema_version());
  auto st = conn_->exec(set.c_str());
  if (!st)
    return rollback(st.error());
  conn_->reset_all();
  return conn_->exec("COMMIT");
}

Result<std::unique_ptr<Tx>> SqliteStore::read() {
  auto tx = std::make_unique<SqliteTx>(*conn_);
  CK_TRY(tx->begin(false));
  return std::unique_ptr<Tx>(std::move(tx));
}

Result<std::unique_ptr<Tx>> SqliteStore::write() {
  auto tx = std::make_unique<SqliteTx>(*conn_);
  CK_TRY(tx->begin(true));
  return std::unique_ptr<Tx>(std::move(tx));
}

Result<std::unique_ptr<TableAccess>> SqliteStore::tables(bool write) {
  return open_tables(*conn_, write);
}

}  // namespace ck::store::sqlite
