#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace ck::probe {

/// One socket address a target resolved to.
struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;

  [[nodiscard]] int family() const { return storage.ss_family; }
  /// "192.0.2.1" or "2001:db8::1", without the port.
  [[nodiscard]] std::string text() const;
};

/// An IPv4 or IPv6 literal with a port; nothing for a name.
[[nodiscard]] bool address_from_literal(const std::string& host, std::uint16_t port, Address& out);

}  // namespace ck::probe
