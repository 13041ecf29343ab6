#pragma once
// What `serve` shows, read once in the background and then only read: every
// page, API list and scrape is answered from the newest Snapshot, so a scrape
// never waits on the store or on a scan. A Snapshot is immutable once
// published; the holder hands out shared pointers to it.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "probe/result.h"
#include "store/store.h"

namespace ck::serve {

/// A client certificate's state as the dashboard counts it. Expired wins over
/// everything (an expired certificate is harmless whatever its CRL state);
/// then held (superseded, its revocation waiting for the user), revoked (in
/// the CRL: revoked for cause, or a released hold), else active.
enum class ClientState { Active, Held, Revoked, Expired };
inline constexpr std::array kClientStates{ClientState::Active, ClientState::Held,
                                          ClientState::Revoked, ClientState::Expired};
[[nodiscard]] std::string_view client_state_name(ClientState s);
[[nodiscard]] ClientState client_state(const store::CertListRow& row, Seconds now);

/// The "expiring within" windows counted for every non-expired, non-revoked
/// client certificate.
inline constexpr std::array<int, 3> kExpiryWindowsDays{7, 14, 30};

/// One client certificate in the alertable set: active ones expiring within
/// the per-certificate window, and every held one.
struct AlertableCert {
  std::string user;
  std::string serial_hex;  // upper-case, as `user show` prints it
  ClientState state = ClientState::Active;
  Seconds not_after{};
};

struct ClientCerts {
  std::array<std::int64_t, kClientStates.size()> by_state{};  // indexed by ClientState
  std::array<std::int64_t, kExpiryWindowsDays.size()> expiring_within{};
  std::int64_t users = 0;
  std::vector<AlertableCert> alertable;  // soonest notAfter first
  /// Serials (upper-case hex) of the revoked, unexpired ones: the TLS
  /// listener refuses them as client certificates (client_ca).
  std::unordered_set<std::string> revoked_serials;
};

struct HeldRevocation {
  std::string user;
  std::string serial_hex;
  std::string replacement_hex;  // the certificate whose use releases it
  std::string ticket;
  Seconds requested_at{};
  Seconds not_after{};  // of the held certificate: dropped then
};

/// The CRL as the store last recorded it (`present` false before the first).
struct CrlStatus {
  bool present = false;
  std::int64_t number = 0;
  std::int64_t entries = 0;
  std::int64_t size_bytes = -1;  // of the file written (-1: not written or unreadable)
  Seconds this_update{};
  Seconds next_update{};
  std::string file_path;
  std::optional<store::PublishState> publish;  // unset: not attempted yet
  std::optional<Seconds> published_at;
  std::string publish_error;
  /// The store's release sequence when it was built: releases after it are
  /// in no CRL yet (store::Tx::count_released_since).
  std::int64_t release_seq = 0;
  /// What the last `crl check` saw on each endpoint, by endpoint (present
  /// or not: a check can run before the first CRL).
  std::vector<store::CrlEnforcementRecord> enforcement;
};

/// Whether `seen` shows the endpoint enforcing the CRL that is the newest
/// now: seen enforcing #12 says nothing about #13, built since and not
/// checked (nor anything before the first CRL).
[[nodiscard]] bool enforces_newest(const CrlStatus& crl, const store::CrlEnforcementRecord& seen);

struct ServerCert {
  std::string name;
  std::int64_t version = 0;
  std::string source;  // "acme", "import"
  std::vector<std::string> domains;
  std::string serial_hex;
  std::string sha256;
  std::string subject;
  std::string issuer;
  Seconds not_before{};
  Seconds not_after{};
};

/// Why a probe failed, from a fixed set (a metric label: never free text).
/// Setup: the probe could not run at all (a plan's CA file no longer loads).
enum class FailureReason { None, Dns, Connect, Timeout, Handshake, Verify, NameMismatch, Setup };
[[nodiscard]] std::string_view failure_reason_name(FailureReason r);
[[nodiscard]] FailureReason failure_reason(const probe::ProbeResult& r);

/// One probed endpoint: from a targets file, or a plan's target.
struct Endpoint {
  std::string source;  // the targets file or plan path it came from
  std::string plan;    // the plan's name ("" for a targets file)
  std::string target;  // the plan's target name ("" for a targets file)
  probe::ProbeResult probe;
  FailureReason reason = FailureReason::None;
  /// For plan endpoints: serves the plan's newest certificate with a chain
  /// and name a client accepts (rollout::EndpointState::aligned).
  std::optional<bool> aligned;
  /// "new", "old", "other", "failed" for plan endpoints; "unknown" when the
  /// plan's certificate could not be resolved (aligned is then false).
  std::string serving;
};

/// A plan served: whether its certificate resolved in the last probe round.
/// When it did not, its endpoints are still probed and shown not aligned:
/// a plan the server cannot check never drops out of the metrics.
struct PlanStatus {
  std::string plan;   // the plan's name
  std::string path;   // the plan file
  std::string error;  // one line; "" when the certificate resolved
};

/// A plan's newest rollout as the journal has it.
struct Rollout {
  std::string plan;  // the plan's name
  std::string path;  // the plan file
  std::int64_t id = 0;
  std::string state;  // rollout::RolloutState's name
  Seconds started_at{};
  Seconds last_change{};  // finished_at, else started_at
  std::string detail;
};

/// Everything one refresh read. `store_up` false means the store could not be
/// read and the store fields are empty (the endpoint fields may still hold).
struct Snapshot {
  Seconds taken_at{};   // when the store was read
  Seconds probed_at{};  // when the last probe round ended (epoch: none yet)
  bool store_up = false;
  std::string store_error;  // one line, when !store_up
  std::string ca_name;
  Seconds ca_not_after{};
  ClientCerts clients;
  std::vector<HeldRevocation> held;  // oldest first
  CrlStatus crl;
  std::vector<ServerCert> servers;  // by name
  std::vector<Endpoint> endpoints;  // targets files first, then plans, in file order
  std::vector<PlanStatus> plans;    // in --plan order; from the last probe round
  std::vector<Rollout> rollouts;    // by plan name
};

struct StoreReadOptions {
  /// Active certificates expiring within this get their own series/rows.
  std::chrono::seconds per_cert_window = std::chrono::days(30);
};

/// Reads the store part of a snapshot in one read transaction: counts in one
/// pass over the certificates (memory bounded by the alertable set, not by
/// the CA's size).
[[nodiscard]] Result<Snapshot> read_store(store::Store& store, Seconds now,
                                          const StoreReadOptions& options);

/// The newest snapshot, shared between the refresh loop (writer) and the
/// HTTP handlers (readers). Readers keep what they got alive while they use
/// it; publishing never waits for them.
class SnapshotHolder {
 public:
  [[nodiscard]] std::shared_ptr<const Snapshot> get() const {
    const std::lock_guard lock(mu_);
    return current_;
  }
  void set(std::shared_ptr<const Snapshot> s) {
    const std::lock_guard lock(mu_);
    current_ = std::move(s);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_ = std::make_shared<Snapshot>();
};

}  // namespace ck::serve
