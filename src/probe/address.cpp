#include "probe/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace ck::probe {

std::string Address::text() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, &storage, sizeof sin);
    ::inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof buf);
  } else if (family() == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &storage, sizeof sin6);
    ::inet_ntop(AF_INET6, &sin6.sin6_addr, buf, sizeof buf);
  }
  return buf;
}

bool address_from_literal(const std::string& host, std::uint16_t port, Address& out) {
  out = Address{};
  sockaddr_in sin{};
  if (::inet_pton(AF_INET, host.c_str(), &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&out.storage, &sin, sizeof sin);
    out.length = sizeof sin;
    return true;
  }
  sockaddr_in6 sin6{};
  if (::inet_pton(AF_INET6, host.c_str(), &sin6.sin6_addr) == 1) {
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(&out.storage, &sin6, sizeof sin6);
    out.length = sizeof sin6;
    return true;
  }
  return false;
}

}  // namespace ck::probe
