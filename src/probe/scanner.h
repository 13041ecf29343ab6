#pragma once
// Many TLS handshakes at once: non-blocking sockets and OpenSSL driven by
// epoll, names resolved by c-ares on the same loop; one such loop per thread,
// as many threads as asked for. One deadline per target covers resolve,
// connect, STARTTLS and handshake.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "probe/client_credential.h"
#include "probe/result.h"
#include "probe/target.h"

namespace ck::probe {

struct ProbeOptions {
  std::chrono::milliseconds timeout{5000};
  std::size_t concurrency = 256;  // in all, shared out among the threads
  /// Event loops, each on its own thread, taking targets from one list; they
  /// share the TLS context and the chain verification cache. One runs on
  /// the caller's thread. Probing is CPU-bound (the handshake's cryptography
  /// and certificate decoding), so one per core is the useful most.
  std::size_t threads = 1;
  std::optional<std::filesystem::path> ca_file;  // else the system trust store
  StartTls starttls = StartTls::None;
  std::optional<std::string> dns_server;  // "HOST:PORT" instead of /etc/resolv.conf
  /// Offered to servers that ask for a client certificate. With one, the
  /// probe also learns what the server made of it: on TLS 1.3 (where the
  /// server judges the certificate after the client's handshake is done) by
  /// reading the server's first record, on https:// targets by one GET.
  std::shared_ptr<const ClientCredential> client;
  /// When set and true, a scan ends within 100 ms: probes in flight are
  /// abandoned unreported (a long-running caller stopping, e.g. `serve` on
  /// SIGTERM, need not wait out their timeout). Must outlive the scanner.
  const std::atomic<bool>* stop = nullptr;
};

/// How many connections a process may hold open at once: its open-file
/// limit (the soft limit is raised to the hard one first) less some for
/// everything else. Scanners that run at once share it.
[[nodiscard]] std::size_t connection_room();

/// The largest handshake message (in practice: the certificate chain) a
/// server may send; more ends that probe. Real chains are a few KiB.
inline constexpr std::size_t kMaxHandshakeMessage = 64 * 1024;

class Scanner {
 public:
  /// Loads the trust store; a CA file that cannot be read is an error here,
  /// before any connection. Deadlines and elapsed times come from
  /// `clock.steady_now()`, certificate lifetimes from `clock.now()`; `clock`
  /// must outlive the scanner.
  static Result<std::unique_ptr<Scanner>> create(const ProbeOptions& options, const Clock& clock);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  /// Called for each target as its probe ends, in the order they end; one
  /// call at a time, from whichever loop's thread probed it.
  using OnResult = std::function<void(std::size_t index, ProbeResult&& result)>;
  /// Probes every target; up to `concurrency` at once. Fails only when the
  /// scan itself cannot run (no epoll, no resolver); a target that fails is a
  /// result.
  [[nodiscard]] Status run(std::span<const Target> targets, const OnResult& on_result);

  /// The effective number of connections in flight (limited by open files).
  [[nodiscard]] std::size_t concurrency() const;

 private:
  struct Impl;
  explicit Scanner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ck::probe
