#pragma once
// The private CA service: every operation on the CA and users' certificates
// (README, "Usage"), written against store::Store only. Each operation
// reads the clock once and takes a request struct; the CLI only parses,
// calls one of these, and prints.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ca/canary.h"
#include "ca/pkcs12.h"
#include "ca/reason.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/keygen.h"
#include "core/pem.h"
#include "core/random.h"
#include "store/store.h"

namespace ck::token {
class Token;
struct KeyUri;
}  // namespace ck::token

namespace ck::ca {

struct CaInfo {
  std::string name;
  std::string key_type;
  std::string subject;
  std::string serial_hex;
  Seconds not_before{};
  Seconds not_after{};
  std::string sha256;  // colon form
  bool key_encrypted = false;
  std::string key_uri;  // the key's PKCS#11 URI when it is in a token
  std::chrono::seconds crl_validity{};
  std::string cert_pem;
  std::vector<std::string> warnings;
};

struct InitRequest {
  std::string name;
  KeyType key_type = KeyType::EcP256;
  std::chrono::seconds validity = std::chrono::hours(24 * 365 * 10);
  std::chrono::seconds crl_validity = std::chrono::hours(24 * 7);
  /// Generate the key in this PKCS#11 token ("pkcs11:token=...;object=...")
  /// rather than in memory; it never leaves the token.
  std::string key_uri;
};

/// Which subject attribute names a user when adopting an existing CA.
enum class UserFrom { Cn, Email, Uid };

/// `ca import`: adopt an `openssl ca` directory without reissuing anything.
struct CaImportRequest {
  std::filesystem::path cert;
  std::filesystem::path key;                       // empty when key_uri names the key
  std::string key_uri;                             // the key in a PKCS#11 token
  std::optional<std::filesystem::path> index;      // index.txt
  std::optional<std::filesystem::path> crlnumber;  // the next CRL number, hex
  std::optional<std::filesystem::path> certs_dir;  // SERIAL.pem files (new_certs_dir)
  UserFrom user_from = UserFrom::Cn;
  std::chrono::seconds crl_validity = std::chrono::hours(24 * 7);
};

struct CaImported {
  CaInfo ca;
  std::size_t users = 0;
  std::size_t certificates = 0;
  std::size_t revoked = 0;
  std::size_t held = 0;          // older valid certificates of a user, superseded and held
  std::size_t without_file = 0;  // certificates known from index.txt only
  std::int64_t next_crl_number = 1;
};

/// Hands a PKCS#12 password to the user by another channel (an SMS gateway
/// command, say). Called once the bundle is written and before the certificate
/// is recorded as delivered, so one that never returns leaves it undelivered.
using PasswordSink = std::function<Status(const Secret& password, const store::UserProfile& user,
                                          const std::string& serial_hex)>;

/// How a new certificate is handed out.
struct IssueOptions {
  /// When set (and no password_file), the password goes here instead of being shown.
  PasswordSink password_sink;
  std::chrono::seconds validity = std::chrono::hours(24 * 365);
  std::filesystem::path out_dir;
  std::string ticket;
  std::optional<std::filesystem::path> password_file;  // a new 0600 file instead of printing
  std::optional<std::filesystem::path> csr;            // sign the user's own key; no PKCS#12
  P12Mode p12 = P12Mode::Modern;
  KeyType key_type = KeyType::EcP256;
};

struct CreateRequest {
  store::UserProfile profile;
  IssueOptions issue;
};

struct RenewRequest {
  std::string user;
  std::vector<std::string> sets;  // "field=value"
  IssueOptions issue;
  bool ticket_given = false;  // else the current certificate's ticket carries over
  /// Everything a renewal does up to its commit (the lease taken, the key made,
  /// the certificate signed and recorded, the old one superseded), then rolled
  /// back: nothing written, no bundle, no password. The result says what
  /// would have been issued.
  bool dry_run = false;
};

struct Issued {
  std::string user;
  std::string serial_hex;
  Seconds not_before{};
  Seconds not_after{};
  std::optional<std::filesystem::path> p12;
  std::filesystem::path crt;
  std::string ticket;
  std::string p12_mode;
  /// Set when nobody else received the password: the caller shows it once.
  std::optional<Secret> password;
  std::optional<std::filesystem::path> password_file;
  bool password_delivered = false;  // handed to the password sink
  std::string delivery_warning;     // why the sink failed (the password is then shown)
  /// On renew: the certificate this one supersedes and what became of its revocation.
  std::optional<std::string> superseded_hex;
  std::string superseded_revocation;  // "held", "released" (never delivered), "none" (expired)
  /// A dry run: nothing was recorded or written; `serial_hex` is empty (a
  /// real run draws another), the paths are where the files would go.
  bool dry_run = false;
  std::string subject;  // dry run: the new certificate's subject, as people read it
};

/// Many users at once (`user import FILE.csv`): every row is validated before
/// anything changes; certificates are committed in batches, each batch durable
/// before its bundles are written. Each batch's bundles are handed over (the
/// passwords to `handed_over`, a password sink or files) before they are
/// marked delivered and before the next batch starts, so a run that stops
/// part-way has lost no password: what it issued and did not hand over stays
/// undelivered, and `user show` names it with the command to reissue.
struct ImportRequest {
  std::vector<store::UserProfile> profiles;
  /// Where each profile came from ("'users.csv' line 7"), for errors; may be empty.
  std::vector<std::string> origins;
  IssueOptions issue;
  /// When set, each user's password goes to a new 0600 file USER.pw in this
  /// folder (instead of issue.password_file, which names one file).
  std::optional<std::filesystem::path> password_dir;
  bool write_bundles = true;  // false: record only (benchmarks of the issuance path)
  std::size_t batch = 256;
  std::function<void(std::size_t done, std::size_t total)> progress;
  /// Called with each batch's users whose bundles are written, as soon as
  /// they are, and before they are recorded as delivered: the caller shows
  /// the passwords (and flushes its output) here. They are also returned.
  std::function<void(const std::vector<Issued>& batch)> handed_over;
};

struct RevokeRequest {
  std::string user;
  Reason reason = Reason::Unspecified;
  std::optional<std::string> serial;  // magnitude bytes; default: the current certificate
  std::string ticket;
  /// Decided and recorded as a real revocation is, then rolled back.
  bool dry_run = false;
};

struct Revoked {
  std::string user;
  std::string serial_hex;
  std::string reason;
  Seconds at{};
  bool was_held = false;
  /// Older superseded certificates whose held revocations went out with it.
  std::vector<std::string> also_released_hex;
  /// The current certificate was revoked: the user is disabled (`user enable`).
  bool user_disabled = false;
  bool dry_run = false;  // nothing recorded: what a real run would do
};

struct Confirmed {
  std::string user;
  std::vector<std::string> released_hex;
};

/// A certificate seen in use (an access log line), for `observe`.
struct Observation {
  std::string serial;  // magnitude bytes
  Seconds seen_at{};
};

struct CertView {
  std::string user;
  std::string serial_hex;
  Seconds not_before{};
  Seconds not_after{};
  std::string status;    // active, expired, superseded, revoked, held, pending
  std::string delivery;  // pending, delivered, external
  std::string ticket;
  std::string revocation;  // "", held, released, dropped
  std::string reason;
  std::optional<std::string> superseded_by_hex;
  std::string subject;  // RFC 2253; filled by show_user only (it parses each certificate)
};

struct UserView {
  store::UserProfile profile;
  Seconds created_at{};
  std::optional<Seconds> disabled_at;  // revoked: renewal refused until `user enable`
  std::optional<CertView> current;
  std::vector<CertView> certificates;
  std::vector<std::string> notes;  // what an operator should know or do
  std::vector<store::AuditEntry> history;
};

/// What `store reconcile --crl FILE` did with a published CRL.
struct CrlReconciled {
  std::int64_t published_number = 0;  // the CRL read
  std::int64_t store_before = 0;      // the store's last CRL number before
  bool changed = false;               // false: the store was at or past it already
  std::size_t entries = 0;            // in the published CRL
  std::size_t already = 0;            // revoked in the store already, or its canaries
  std::size_t released = 0;           // held or dropped in the store: released now
  std::size_t revoked = 0;            // valid in the store: revoked now
  std::size_t unknown = 0;            // no certificate in the store: kept as published
};

struct CrlBuilt;
/// Publishes a written CRL (copy it where servers read it, commit it...).
using CrlPublisher = std::function<Status(const CrlBuilt& built)>;

struct CrlRequest {
  std::optional<std::filesystem::path> out;
  bool der = false;
  /// Build only when the entries change or the last CRL's nextUpdate is
  /// closer than `due_before` (the daily timer's mode).
  bool if_due = false;
  std::chrono::seconds due_before = std::chrono::hours(48);
  CrlPublisher publish;  // run after the CRL is written, when set
  /// How many of the new entries `CrlBuilt::added` lists (a person reads
  /// the first few of a mass revocation; `--json` wants them all). The count
  /// and the tickets always cover every entry.
  std::size_t list_added = static_cast<std::size_t>(-1);
  /// Everything a build does up to its commit (the CRL signed and read back,
  /// --out inspected, the un-revocation check), then rolled back: no number
  /// used, no file written, nothing published.
  bool dry_run = false;
};

/// A certificate that enters the CRL with this build.
struct CrlAddition {
  std::string serial_hex;
  std::string user;
  std::string reason;
  std::string ticket;
};

struct CheckCanaries {
  std::int64_t last_crl = 0;          // the store's last CRL number (0: none built)
  IssuedCanary valid;                 // must be accepted by every server that trusts the CA
  std::vector<IssuedCanary> revoked;  // crl_number set; newest CRL first
};

struct CrlBuilt {
  bool built = true;  // false: --if-due found nothing to do (the fields describe the last CRL)
  std::int64_t number = 0;
  Seconds this_update{};
  Seconds next_update{};
  std::size_t entries = 0;        // every entry, canaries included (what `openssl crl` counts)
  std::size_t canaries = 0;       // of which CRL canaries (ca/canary.h)
  std::string canary_serial_hex;  // this CRL's own canary (empty when not built)
  std::optional<std::filesystem::path> path;
  std::vector<std::string> dropped_hex;  // held revocations that expired unreleased
  std::vector<CrlAddition> added;        // new since the previous CRL (the first list_added)
  std::size_t added_count = 0;           // all of them
  std::vector<std::string> removed_hex;  // left the CRL: expired, listed once after notAfter
  std::vector<std::string> tickets;      // of the added entries, once each, for the publisher
  /// --if-due found the last CRL unchanged but not published (its publish had
  /// failed, or a crash came first): that CRL was handed to the publisher
  /// again, no new number was used.
  bool republished = false;
  /// What publishing did; None when no publisher is configured.
  store::PublishState publish = store::PublishState::None;
  std::string publish_error;  // the CRL is built and written, publishing failed
  /// The file already held this newer CRL of the CA when this one was to be
  /// written (a build that started later finished first): this one is
  /// recorded, neither written nor published, and `path` is unset.
  std::optional<std::int64_t> superseded_by;
  std::string der;
  /// A dry run: `number` and the lists are what a build now would make;
  /// `path` is where it would be written (nothing was). With `built` false
  /// nothing is due; with `republished` the last CRL would be handed to the
  /// publisher again.
  bool dry_run = false;
};

struct HeldView {
  std::string user;
  std::string serial_hex;
  Seconds since{};
  Seconds not_after{};
  std::string ticket;
  std::optional<std::string> replacement_hex;
  std::string release_when;
};

struct CrlStatusView {
  std::optional<std::int64_t> last_number;
  std::optional<Seconds> this_update;
  std::optional<Seconds> next_update;
  std::int64_t last_entries = 0;
  std::string file_path;  // where the last CRL was written
  /// The last CRL's publish: unset when never attempted (a crash, or the file
  /// was not written).
  std::optional<store::PublishState> publish;
  std::optional<Seconds> published_at;
  std::string publish_error;
  std::int64_t released_since_last = 0;
  std::vector<HeldView> held;
  std::vector<std::string> warnings;  // e.g. the last CRL is past its nextUpdate
  /// Why servers may not have a good CRL: none built, the last one not
  /// published, past its nextUpdate or closer to it than the asked margin.
  std::vector<std::string> stale;
};

class UserLease;

class Authority {
 public:
  /// `ca_passphrase` may be null (an unencrypted CA key); `actor` names who
  /// acts in the audit log ("alice@ops1").
  Authority(store::Store& store, const Clock& clock, RandomSource& random,
            const Secret* ca_passphrase, std::string actor);

  /// Where a CA key kept in a PKCS#11 token is opened (null: none
  /// configured, and a CA whose key is in a token cannot sign). Must outlive
  /// this Authority.
  void set_token(token::Token* token) { token_ = token; }

  [[nodiscard]] Result<CaInfo> init(const InitRequest& req);
  [[nodiscard]] Result<CaInfo> info();
  /// Opens the CA key as signing would (decrypted with the passphrase, or
  /// found in the token and self-tested) and checks that it matches the CA
  /// certificate; reads only (`store verify` checks a backup with it).
  [[nodiscard]] Result<CaInfo> check_key();
  [[nodiscard]] Result<CaImported> import_ca(const CaImportRequest& req);

  [[nodiscard]] Result<Issued> create_user(const CreateRequest& req);
  [[nodiscard]] Result<Issued> renew_user(const RenewRequest& req);
  [[nodiscard]] Result<std::vector<Issued>> import_users(const ImportRequest& req);
  [[nodiscard]] Result<Revoked> revoke(const RevokeRequest& req);
  [[nodiscard]] Result<Confirmed> confirm(const std::string& user);
  /// Releases the held revocation of one certificate (`serial`: magnitude
  /// bytes), as confirm() releases all of its user's: the replacement is in
  /// use. A store change only (the next `crl build` signs); audited as
  /// "hold.release". NotFound when the serial has no revocation;
  /// FailedPrecondition when it is not held any more, or the user's newest
  /// certificate was never delivered.
  [[nodiscard]] Result<Confirmed> release_hold(const std::string& serial);
  /// Re-admits a user whose current certificate was revoked, so `user renew`
  /// may issue them a certificate again. Audited.
  [[nodiscard]] Status enable_user(const std::string& user);
  /// Users seen using their current certificate are confirmed: their held
  /// revocations are released as of the sighting. One transaction.
  [[nodiscard]] Result<std::vector<Confirmed>> observe(const std::vector<Observation>& seen);

  [[nodiscard]] Result<std::vector<UserView>> list_users();
  [[nodiscard]] Result<UserView> show_user(const std::string& user);
  /// The profiles of `users` (names not found are left out), read in one
  /// snapshot: the names and e-mail addresses a listing shows beside serials.
  [[nodiscard]] Result<std::map<std::string, store::UserProfile>> profiles_of(
      const std::set<std::string>& users);
  /// Changes profile fields the certificate does not hold (phone) without
  /// reissuing, under the user's lease, in one transaction with an audit
  /// entry. A field the certificate holds is refused, pointing to
  /// `user renew --set`; so is an empty list. Returns the new profile.
  [[nodiscard]] Result<store::UserProfile> edit_user(const std::string& user,
                                                     const std::vector<std::string>& sets);
  [[nodiscard]] Result<std::vector<CertView>> list_certs(store::CertFilter filter);
  /// CRL canaries and `probe --client-user` certificates as `cert list --all`
  /// shows them: user "(crl canary #N)", "(crl check)" or "(probe)", status
  /// revoked (expired once past notAfter), revocation "listed" until its final
  /// CRL, then "dropped".
  [[nodiscard]] Result<std::vector<CertView>> list_canaries();
  /// Streams the active certificates expiring within the window, soonest
  /// first; the view passed to `fn` is reused between rows.
  [[nodiscard]] Status expiring(std::chrono::seconds within,
                                const std::function<void(const CertView&)>& fn);

  [[nodiscard]] Result<CrlBuilt> build_crl(const CrlRequest& req);
  /// After a restore from an older copy (`store reconcile --crl FILE`):
  /// takes what CRL `crl_file` (this CA's, newer than the store's last)
  /// published back into the store -- its revocations released, the
  /// serials of certificates the store never saw kept in every later CRL,
  /// the CRL itself recorded as the last one -- so the next build numbers
  /// above it and drops nothing it listed. One transaction; a CRL the store
  /// is already at or past changes nothing.
  [[nodiscard]] Result<CrlReconciled> reconcile_crl(const std::filesystem::path& crl_file);
  /// What `crl check` presents to servers: a fresh canary, recorded as
  /// revoked before it is returned (so the next CRL lists it whatever
  /// becomes of the run), valid from an hour ago (a server's clock may lag)
  /// for `valid_for`; and the canaries of the newest `how_many` CRLs still
  /// within their validity, newest first, keys opened.
  [[nodiscard]] Result<CheckCanaries> canaries_for_check(std::size_t how_many,
                                                         std::chrono::seconds valid_for);
  /// Keeps what a `crl check` run saw on each endpoint (each replaces that
  /// endpoint's last observation; `serve` shows them) and audits the run:
  /// `on_newest` of them enforce CRL #`last_crl`.
  [[nodiscard]] Status record_crl_enforcement(const std::vector<store::CrlEnforcementRecord>& seen,
                                              std::size_t on_newest, std::int64_t last_crl);
  /// For `probe --client-user`: a certificate with `user`'s current subject,
  /// valid from an hour ago for `valid_for`, its key only in memory; recorded
  /// (and revoked, so the next CRL lists it) before it is returned, audited.
  /// The user must exist and not be disabled.
  [[nodiscard]] Result<IssuedCanary> probe_credential(const std::string& user,
                                                      std::chrono::seconds valid_for);
  /// `stale_before`: a CRL whose nextUpdate is closer than this is stale.
  /// `publisher_configured`: a CRL built without a publish command is not
  /// out once one is configured.
  [[nodiscard]] Result<CrlStatusView> crl_status(std::chrono::seconds stale_before,
                                                 bool publisher_configured);

  /// Clock skew allowance: notBefore is backdated by this much.
  static constexpr std::chrono::seconds kBackdate{60};

 private:
  struct UnlockedCa;
  struct Prepared;
  struct Signed;
  [[nodiscard]] Result<UnlockedCa> unlock(store::Tx& tx);
  /// What the CA's CRL canary keys are sealed under (canary_seal.h): to the
  /// token's key when the CA key is in a token.
  [[nodiscard]] static Result<CanarySeal> canary_seal_of(UnlockedCa& ca);
  /// The key `uri` names in the token, self-tested against `ca_cert` (it
  /// signs, and the certificate's public key verifies the signature).
  [[nodiscard]] Result<EvpPkeyPtr> open_token_key(const token::KeyUri& uri, const X509& ca_cert);
  /// unlock() in a read transaction of its own; a key encrypted with fewer
  /// PBKDF2 iterations than kKeyPbkdf2Iterations (a home from an earlier
  /// version) is then re-encrypted and stored, with an audit entry -- unless
  /// `dry_run`, which changes nothing.
  [[nodiscard]] Result<UnlockedCa> unlock(bool dry_run = false);
  /// What prepare() checks of the files an issuance writes: everything (the
  /// --out folder made if missing); everything, making nothing (a dry run);
  /// all but the --out folder (an import checks it once for all its rows); or
  /// nothing, as none will be written (an import without bundles).
  enum class Outputs { Check, CheckOnly, DirChecked, NotWritten };
  /// Checks the request; makes the user's key unless `make_key` is false.
  [[nodiscard]] Result<Prepared> prepare(const store::UserProfile& profile,
                                         const IssueOptions& opts, bool make_key = true,
                                         Outputs outputs = Outputs::Check);
  /// Nothing in the way of the files an issuance writes (its bundle, its
  /// certificate, its new password file); run again just before recording,
  /// as the disk may have changed since the request was checked.
  [[nodiscard]] static Status check_output_paths(const Prepared& prep);
  /// Signs a certificate with a fresh serial (no store access: thread-safe).
  [[nodiscard]] Result<Signed> sign_new(const UnlockedCa& ca, X509& issuer, const Prepared& prep,
                                        const store::UserProfile& profile, Seconds now,
                                        const std::string& ticket);
  [[nodiscard]] Result<X509Ptr> sign_unique(store::Tx& tx, UnlockedCa& ca, Prepared& prep,
                                            const store::UserProfile& profile, Seconds now,
                                            const std::string& ticket, std::string& serial_out);
  /// Writes the bundle and marks it delivered while `lease` still holds.
  [[nodiscard]] Result<Issued> deliver(Prepared& prep, X509& cert, X509& ca_cert,
                                       const std::string& user, const std::string& serial,
                                       const std::string& ticket, const UserLease& lease);
  /// Writes the bundle and certificate files (no store change), each synced
  /// before it gets its name: stage_bundle, then finish_bundle.
  [[nodiscard]] Result<Issued> write_bundle(Prepared& prep, X509& cert, X509& ca_cert,
                                            const std::string& user, const std::string& serial,
                                            const std::string& ticket);
  /// A bundle made and its files staged under temporary names, not yet in place.
  struct StagedBundle {
    Issued out;
    StagedFiles files;
    std::optional<Secret> password;
  };
  /// The PKCS#12 bundle built and checked, its files staged (`sync`: synced
  /// each, or Later for the caller to sync many at once: user import). Safe
  /// from several threads for different users, each with its own `ca_cert`.
  [[nodiscard]] Result<StagedBundle> stage_bundle(
      Prepared& prep, X509& cert, X509& ca_cert, const std::string& user, const std::string& serial,
      const std::string& ticket, StagedFiles::FileSync sync, P12Check check = P12Check::Full);
  /// Puts a staged bundle's files in place. The folders' entries are synced,
  /// or with `deferred_dirs` left to the caller (sync_dirs once per batch).
  [[nodiscard]] Result<Issued> finish_bundle(const Prepared& prep, StagedBundle&& staged,
                                             std::vector<std::filesystem::path>* deferred_dirs);
  /// A dry run's result: what would be issued, and where its files would go.
  [[nodiscard]] static Result<Issued> dry_run_issued(const Prepared& prep, X509& cert,
                                                     const std::string& user,
                                                     const std::string& ticket,
                                                     std::optional<std::string> superseded_hex,
                                                     const std::string& revocation);
  [[nodiscard]] static std::string undelivered_context(const std::string& serial_hex_text,
                                                       const std::string& user);
  /// Gives the password to the configured sink, or leaves it to be shown.
  void hand_over_password(const Prepared& prep, Issued& issued);
  [[nodiscard]] Status mark_delivered(store::Tx& tx, const Prepared& prep, const Issued& issued,
                                      const std::string& serial, Seconds at);
  /// Hands a written CRL to the configured publisher and records the outcome.
  [[nodiscard]] Status publish_crl(const CrlRequest& req, CrlBuilt& built);
  /// --if-due on an unchanged CRL that is good for a while: kept when its
  /// file is intact and it is out, handed to the publisher again when it is
  /// not out, built anew when its file is gone or changed.
  [[nodiscard]] Result<CrlBuilt> keep_or_republish(const CrlRequest& req,
                                                   const store::CrlRecord& last);
  /// Whether `out` still holds exactly the bytes recorded for `last` (true
  /// when nothing was written to a file).
  [[nodiscard]] Result<bool> crl_file_intact(const std::optional<std::filesystem::path>& out,
                                             const store::CrlRecord& last) const;
  [[nodiscard]] Status audit(store::AuditRecords& tx, std::string action, std::string subject,
                             std::string detail, Seconds at);

  store::Store& store_;
  const Clock& clock_;
  RandomSource& random_;
  const Secret* passphrase_;
  std::string actor_;
  token::Token* token_ = nullptr;
};

}  // namespace ck::ca
