#pragma once
// Name resolution that never blocks the scanner's event loop: c-ares, with its
// sockets registered in the scanner's epoll set. /etc/hosts is read first,
// then DNS (the servers of /etc/resolv.conf, or the one given).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "probe/address.h"

namespace ck::probe {

class Resolver {
 public:
  /// Addresses in the order to try them, or the reason the name did not resolve.
  using Callback = std::function<void(Result<std::vector<Address>>)>;

  /// `epoll_fd`: where the resolver's sockets are registered, each with the
  /// epoll data `tag | fd`; events carrying the tag go to on_ready().
  /// `server`: "HOST:PORT" of a DNS server to ask instead of /etc/resolv.conf.
  static Result<std::unique_ptr<Resolver>> create(int epoll_fd, std::uint64_t tag,
                                                  const std::optional<std::string>& server,
                                                  std::chrono::milliseconds timeout);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  /// Starts a lookup. `done` runs from on_ready() or on_timer(), or before
  /// resolve() returns when the answer is at hand (a name in /etc/hosts);
  /// never after the resolver is destroyed.
  void resolve(const std::string& host, std::uint16_t port, Callback done);
  void on_ready(int fd, std::uint32_t events);
  /// Lets c-ares retry or give up on queries whose time has come.
  void on_timer();
  /// How long until on_timer() has work; nothing when no query is pending.
  [[nodiscard]] std::optional<std::chrono::milliseconds> next_timeout() const;
  [[nodiscard]] bool busy() const { return pending_ > 0; }

 private:
  struct Impl;
  explicit Resolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::size_t pending_ = 0;
  friend struct Impl;
};

}  // namespace ck::probe
