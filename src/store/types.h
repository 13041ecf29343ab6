#pragma once
// Domain records as the store keeps them. No OpenSSL types here: certificates
// travel as DER bytes, serials as their big-endian magnitude bytes, times as
// whole seconds since the epoch (UTC).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace ck::store {

using Seconds = std::chrono::sys_seconds;

struct CaRecord {
  std::string name;
  std::string key_type;  // "ec-p256", ...
  std::string cert_der;
  std::string key_pem;  // PKCS#8, encrypted when key_encrypted; empty with key_uri
  bool key_encrypted = false;
  std::chrono::seconds crl_validity{};
  Seconds created_at{};
  /// The key in a PKCS#11 token ("pkcs11:token=...;object=..."): set, the
  /// key never is in the store (migration 0015).
  std::string key_uri;
};

/// The profile fields of `user create`.
struct UserProfile {
  std::string name;  // the user id operators type (unique)
  std::string cn;
  std::string email;
  std::string org;
  std::string ou;
  std::string locality;
  std::string state;
  std::string country;
  std::string phone;
};

struct UserRecord {
  std::int64_t id = 0;
  UserProfile profile;
  Seconds created_at{};
  /// Set when the user's current certificate was revoked: no renewal until
  /// `user enable` clears it.
  std::optional<Seconds> disabled_at;
};

enum class CertStatus {
  Active,      // the user's current certificate
  Superseded,  // replaced by a renewal (its revocation is held, released or dropped)
  Revoked,     // revoked for cause
};

/// How far handing out a certificate got. A certificate is recorded as Pending
/// before any file is written and becomes Delivered once its files are in place.
enum class Delivery {
  Pending,    // issued; bundle not (yet) written — an interrupted run
  Delivered,  // PKCS#12 and certificate written and checked
  External,   // signed from the user's own CSR: the user holds the key
};

struct CertRecord {
  std::int64_t id = 0;
  std::string serial;  // magnitude bytes, big-endian
  std::string user;    // user name
  std::string key_type;
  Seconds not_before{};
  Seconds not_after{};
  Seconds issued_at{};
  std::string der;
  CertStatus status = CertStatus::Active;
  std::optional<std::string> superseded_by;  // serial of the renewal
  Delivery delivery = Delivery::Pending;
  std::string ticket;
};

enum class RevocationState {
  Held,      // superseded; waits until the user has applied the new certificate
  Released,  // goes into every CRL until one CRL after notAfter
  Dropped,   // expired while held: never needs a CRL entry
};

/// Why a held revocation was released, or that it never was held.
enum class ReleaseCause { Immediate, Confirmed, Observed, Undelivered, Imported };

struct RevocationRecord {
  std::string serial;
  std::string user;
  int reason = 0;  // RFC 5280 §5.3.1 CRLReason code
  RevocationState state = RevocationState::Held;
  Seconds requested_at{};
  std::optional<Seconds> released_at;  // the CRL entry's revocationDate
  std::optional<ReleaseCause> cause;
  std::string ticket;
  Seconds not_after{};                     // of the revoked certificate
  std::optional<std::string> replacement;  // serial that supersedes it, for held ones
  std::optional<std::int64_t> final_crl;   // the CRL issued after notAfter (last to list it)
};

/// One entry as the CRL builder streams it.
struct CrlEntry {
  std::string serial;
  Seconds revoked_at{};
  int reason = 0;
  Seconds not_after{};
  /// A revocation's (for_each_crl_entry): when it was released, on the
  /// release counter, and its ticket -- what `crl build` needs to tell the
  /// entries new since the last CRL, without a second scan. 0 and empty for
  /// canaries and published revocations.
  std::int64_t release_seq = 0;
  std::string ticket;
};

/// A certificate made only to be revoked (or, for one `crl check` run, to be
/// accepted): see migration 0012.
enum class CanaryPurpose {
  Crl,    // revoked in the CRL it was made for; its key kept, sealed
  Check,  // one `crl check` run's valid canary
  Probe,  // `probe --client-user`: a user's subject, for minutes
};

struct CanaryRecord {
  std::string serial;  // magnitude bytes
  CanaryPurpose purpose = CanaryPurpose::Crl;
  std::optional<std::int64_t> crl_number;  // Crl: the CRL it was made for
  Seconds not_before{};
  Seconds not_after{};
  Seconds revoked_at{};
  std::string der;
  std::string sealed_key;                 // Crl: the key, sealed; Check: empty
  std::optional<std::int64_t> final_crl;  // the last CRL listing it, once known
};

/// What one `crl check` run saw on one endpoint (migration 0013). `state` is
/// one of enforce::enforcement_name's words (the schema checks the set).
struct CrlEnforcementRecord {
  std::string endpoint;
  std::string state;
  std::optional<std::int64_t> crl_number;  // the newest CRL whose canary it refused
  std::int64_t last_crl = 0;               // the newest CRL when checked
  Seconds checked_at{};
  std::string detail;
};

/// What became of handing a CRL to the configured publish command.
enum class PublishState {
  Ok,      // the command exited 0
  Failed,  // the command failed: `crl build --if-due` runs it again
  None,    // no publish command was configured
};

/// A revocation as the CRL build lists what it adds (`crl build --json`).
struct ReleasedEntry {
  std::string serial;
  std::string user;
  int reason = 0;
  std::string ticket;
};

struct CrlRecord {
  std::int64_t number = 0;
  Seconds this_update{};
  Seconds next_update{};
  std::string der;  // only in homes from before the serial list; new CRLs keep `serials`
  std::int64_t entries = 0;
  std::string serials;  // the CRL's serials, packed (store/serial_list.h)
  /// counters.release_seq when built: releases with a higher sequence are
  /// not in this CRL.
  std::int64_t release_seq = 0;
  std::string file_path;             // where it was written ("" when only recorded)
  std::string file_sha256;           // of the bytes written there, lower-case hex
  std::vector<std::string> tickets;  // of the entries it added, once each, for the publisher
  /// Unset until a publish was attempted (a crash, or the file not written).
  std::optional<PublishState> publish;
  std::optional<Seconds> published_at;
  std::string publish_error;  // the command's one-line failure
};

/// How a notice left: delivered to its recipient, or only printed as a link
/// (ticket link, mailto:) that reaches nobody until a person opens it.
enum class NotificationState { Sent, Printed };

/// One channel `notify` completed for a certificate (key: serial in hex) or
/// for a day's ops digest (key: "YYYY-MM-DD").
struct NotificationRecord {
  std::string key;
  std::string channel;  // "ticket", "email", "digest"
  std::string method;   // "smtp", "mailto", "conduit", "link", "webhook"
  Seconds at{};
  std::string reference;  // ticket id, Message-ID; never a secret
  NotificationState state = NotificationState::Sent;
  std::string link;  // Printed: the URL to open (empty for rows older than the state)
};

/// A per-user lease: one process at a time changes a user (see ca/user_lease.h).
struct UserLeaseRecord {
  std::string user;    // user name (the lease may precede the user's row)
  std::string holder;  // "pid@host"
  std::string actor;   // "alice@ops1"
  std::string token;   // random, identifies this holding
  Seconds acquired_at{};
  Seconds expires_at{};
};

struct AuditEntry {
  Seconds at{};
  std::string actor;    // "user@host"
  std::string action;   // "user.create", "crl.build", ...
  std::string subject;  // user name or serial
  std::string detail;   // never a secret
};

/// One version of a server certificate (ACME-issued or imported). A renewal
/// adds a version; the highest is current.
struct ServerCertRecord {
  std::string name;
  std::int64_t version = 0;
  std::string source;  // "acme", "import"
  std::vector<std::string> domains;
  std::string cert_der;
  std::string chain_pem;  // issuers, leaf's issuer first
  std::string key_pem;    // PKCS#8, encrypted when key_encrypted
  bool key_encrypted = false;
  Seconds not_before{};
  Seconds not_after{};
  Seconds created_at{};
  std::string sha256;    // lower-case hex
  std::string settings;  // JSON the next renewal reuses; never a secret
};

/// An ACME account key certkeeper generated for a directory.
struct AcmeAccountRecord {
  std::string directory;
  std::string key_pem;
  bool key_encrypted = false;
  std::string email;
  Seconds created_at{};
};

/// One `rollout apply` of a plan (the journal).
struct RolloutRecord {
  std::int64_t id = 0;
  std::string plan;  // absolute path
  std::string cert_source;
  std::string cert_sha256;
  std::string previous_sha256;
  // to_string of a rollout::RolloutState (rollout/state.h), which lists the
  // states and parses them back; the store keeps the text.
  std::string state;
  Seconds started_at{};
  std::optional<Seconds> finished_at;
  std::string detail;
};

/// What a rollout did to one target.
struct RolloutStepRecord {
  std::int64_t rollout_id = 0;
  std::string target;
  std::string stage;
  std::string state;  // to_string of a rollout::StepState (rollout/state.h)
  Seconds at{};
  std::string detail;
  std::string backup;  // what a files deploy replaced; sealed when backup_sealed
  bool backup_sealed = false;
};

const char* to_string(CertStatus s);
const char* to_string(Delivery d);
const char* to_string(RevocationState s);
const char* to_string(ReleaseCause c);
const char* to_string(PublishState p);
const char* to_string(NotificationState s);
const char* to_string(CanaryPurpose p);

// The enum a stored word stands for. Strict: an unknown word is a damaged (or
// newer) row, a Code::Storage error naming the column, never a default such as
// "active" that would put a revoked certificate back in service.
[[nodiscard]] Result<CertStatus> parse_cert_status(std::string_view word);
[[nodiscard]] Result<Delivery> parse_delivery(std::string_view word);
[[nodiscard]] Result<RevocationState> parse_revocation_state(std::string_view word);
[[nodiscard]] Result<ReleaseCause> parse_release_cause(std::string_view word);
[[nodiscard]] Result<PublishState> parse_publish_state(std::string_view word);
[[nodiscard]] Result<NotificationState> parse_notification_state(std::string_view word);
[[nodiscard]] Result<CanaryPurpose> parse_canary_purpose(std::string_view word);

}  // namespace ck::store
