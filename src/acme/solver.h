#pragma once
// Ways to answer ACME challenges (RFC 8555 §8.3 http-01, §8.4 dns-01). A
// solver publishes the answer for each authorization, says when everything
// is visible, and takes it all down again, also after a failure.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "acme/challenge_type.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/file_io.h"

namespace ck::acme {

class Solver {
 public:
  virtual ~Solver() = default;
  /// The challenge type answered, as the server names it (to_string(ChallengeType)).
  [[nodiscard]] virtual std::string_view type() const = 0;
  /// Publishes the answer for `domain` (without "*.").
  [[nodiscard]] virtual Status present(const std::string& domain, const std::string& token,
                                       const std::string& key_authorization) = 0;
  /// Returns once everything presented can be seen from outside.
  [[nodiscard]] virtual Status wait_visible() { return {}; }
  /// Takes down everything this solver presented; failures become warnings.
  virtual std::vector<std::string> cleanup() = 0;
};

/// Serves /.well-known/acme-challenge/TOKEN on a port of its own. One
/// responder can serve several orders at once (renewals in parallel).
///
/// It binds with SO_REUSEADDR only (a port whose previous server's connections
/// are still in TIME_WAIT can be bound; a port another socket listens on
/// cannot), and a lock file per port makes a second certkeeper process wait
/// for the first instead of failing on the port in use.
class HttpResponder {
 public:
  /// Binds `address`:`port` and starts serving; a port in use is an error naming it.
  [[nodiscard]] static Result<std::shared_ptr<HttpResponder>> start(const std::string& address,
                                                                    int port);
  ~HttpResponder();
  HttpResponder(const HttpResponder&) = delete;
  HttpResponder& operator=(const HttpResponder&) = delete;

  void add(const std::string& token, const std::string& key_authorization);
  void remove(const std::string& token);
  [[nodiscard]] int port() const { return port_; }

 private:
  HttpResponder() = default;
  struct Server;
  std::optional<FileLock> port_lock_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

/// http-01 through a running HttpResponder.
[[nodiscard]] std::unique_ptr<Solver> http01_responder(std::shared_ptr<HttpResponder> responder);

/// http-01 by files under DIR/.well-known/acme-challenge/ (a web server's root).
[[nodiscard]] std::unique_ptr<Solver> http01_webroot(std::filesystem::path webroot);

struct DnsHookOptions {
  std::string hook;      // called as HOOK add|remove NAME VALUE
  std::string resolver;  // HOST:PORT for the propagation check; "" = system
  std::chrono::seconds propagation_timeout{120};
  std::chrono::milliseconds hook_timeout{60000};
  std::chrono::milliseconds poll_interval{500};
};

/// dns-01 through a hook that edits the zone, checked against a resolver.
/// The propagation wait takes its deadline from `clock` and waits with
/// `sleep` between checks; `clock` must outlive the solver.
[[nodiscard]] std::unique_ptr<Solver> dns01_hook(DnsHookOptions opts, const Clock& clock,
                                                 Sleep sleep = real_sleep);

/// The TXT value for a key authorization: base64url(SHA-256(key authorization)).
[[nodiscard]] std::string dns01_value(const std::string& key_authorization);

}  // namespace ck::acme
