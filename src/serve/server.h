#pragma once
// `certkeeper serve`: one long-running, read-mostly process. Two background
// loops keep the snapshot current (the store: on an interval and when its
// file changes; the endpoints: a probe round on the probe interval), and an
// HTTP server answers /metrics, /api/v1/ and the web pages from the newest
// snapshot, so no request waits on a scan.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/pem.h"
#include "probe/scanner.h"
#include "rollout/plan.h"
#include "serve/snapshot.h"
#include "store/store.h"

namespace httplib {
class Server;
}

namespace ck::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9555;  // 0: any free port (tests)
  /// Plain HTTP on an address other than loopback (without TLS) only when set.
  bool insecure_listen = false;
  std::chrono::seconds probe_interval{300};
  /// The store is read again at least this often, and whenever its file changes.
  std::chrono::seconds refresh_interval{60};
  std::vector<std::filesystem::path> targets_files;
  std::vector<std::filesystem::path> plans;
  StoreReadOptions store_read;
  probe::ProbeOptions probe;
  /// The write endpoints of the API (confirm, release) need both.
  bool allow_write = false;
  std::optional<std::filesystem::path> token_file;
  /// The bearer token, read from token_file once at start (by `serve`, which
  /// refuses a file others can read); shared so the options stay copyable.
  std::shared_ptr<const Secret> token;
  /// TLS for the listener; with client_ca a client certificate is required.
  std::optional<std::filesystem::path> tls_cert, tls_key, client_ca;
};

/// What a request handler may use. Handlers answer from `snapshots`; only
/// paged lists and the write endpoints read the store, each through a
/// connection of its own (`open_store`): a store connection is not shared
/// between threads (SQLite's is opened without a mutex, and transactions on
/// one connection would mix).
struct Context {
  SnapshotHolder& snapshots;
  std::function<Result<std::unique_ptr<store::Store>>()> open_store;
  /// Reads the store into a new snapshot now (after an API write).
  std::function<void()> refresh;
  const Clock& clock;
  const ServeOptions& options;
  std::string actor;  // "serve@host", for audit entries of API writes
};

/// The security headers every response carries (CSP, nosniff, DENY).
void add_security_headers(httplib::Server& http);

class Server {
 public:
  /// Loads the plans and targets files and checks the listen address; any
  /// error here names the file or option, before anything listens. `store`
  /// is only named here: the server opens connections of its own to it.
  [[nodiscard]] static Result<std::unique_ptr<Server>> create(ServeOptions options,
                                                              store::Store& store,
                                                              const Clock& clock,
                                                              std::string actor);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the listener; returns the port (the chosen one when port was 0).
  [[nodiscard]] Result<std::uint16_t> bind();
  /// Reads the store once (so the first scrape has data), then serves and
  /// runs the refresh and probe loops until stop(). Returns after every
  /// in-flight request finished and both loops ended.
  [[nodiscard]] Status run();
  /// Asks run() to return; safe from any thread (not from a signal handler).
  void stop();

  [[nodiscard]] const SnapshotHolder& snapshots() const { return snapshots_; }
  [[nodiscard]] const std::string& host() const { return options_.host; }
  /// One store refresh and one probe round now, on the calling thread (tests);
  /// each waits for one the loops are running.
  void refresh_store();
  void probe_round();

 private:
  Server(ServeOptions options, store::Store& store, const Clock& clock, std::string actor);
  void publish();
  /// What a plan's endpoints are probed with: --ca-file is the targets
  /// files' trust; a plan trusts its own ca_file (or the system store).
  [[nodiscard]] probe::ProbeOptions plan_probe_options() const;
  /// The store part of a snapshot, over a fresh connection to the store.
  [[nodiscard]] Result<Snapshot> read_store_part(Seconds now);
  /// One plan's endpoints, probed and compared with its certificate, added
  /// to `found`; the returned status says whether the certificate resolved.
  [[nodiscard]] PlanStatus probe_plan(const rollout::Plan& plan, std::vector<Endpoint>& found);
  void store_loop();
  void probe_loop();
  /// Waits up to `d` or until stop(); false once stopping.
  bool wait_for(std::chrono::milliseconds d);
  /// Changes when the store did: the SQLite file's times, or a shared
  /// store's change counter; nullopt when unknown.
  [[nodiscard]] std::optional<std::int64_t> store_stamp();

  [[nodiscard]] Result<std::unique_ptr<store::Store>> open_connection() const;

  ServeOptions options_;
  std::string store_url_;
  std::mutex refresh_mu_;  // one refresh at a time, each on a fresh connection
  // One probe round at a time: a round called from outside the probe loop
  // (tests do) would otherwise share probe_conn_, one SQLite connection, with
  // the loop's round ("cannot start a transaction within a transaction", or
  // a crash).
  std::mutex probe_mu_;
  std::unique_ptr<store::Store> probe_conn_;  // the probe rounds'
  const Clock& clock_;
  std::string actor_;
  std::unique_ptr<httplib::Server> http_;
  std::vector<std::pair<std::filesystem::path, std::vector<probe::Target>>> targets_;
  std::vector<rollout::Plan> plans_;
  std::optional<std::filesystem::path> store_file_;
  std::unique_ptr<store::Store> poll_store_;  // store_loop's, for a shared store's stamp

  SnapshotHolder snapshots_;
  Context context_;
  std::mutex parts_mu_;  // guards the two parts below
  std::shared_ptr<const Snapshot> store_part_ = std::make_shared<Snapshot>();
  std::vector<Endpoint> endpoints_;
  std::vector<PlanStatus> plans_status_;
  Seconds probed_at_{};

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::atomic<bool> listening_{false};
  /// Set by stop(): a probe round in flight ends within 100 ms
  /// (ProbeOptions::stop) instead of at its probes' timeout.
  std::atomic<bool> probe_stop_{false};
};

}  // namespace ck::serve
