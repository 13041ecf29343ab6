#pragma once
// One blocking TXT query through c-ares, against a chosen DNS server or the
// system's, for the dns-01 propagation check.

#include <chrono>
#include <string>
#include <vector>

#include "core/error.h"

namespace ck::acme {

struct TxtAnswer {
  bool exists = false;  // false: NXDOMAIN or no TXT records at the name
  std::vector<std::string> values;
};

/// Looks up the TXT records at `name`. `server` is "HOST:PORT" (or "HOST",
/// port 53); empty means the system's resolvers. A server that does not
/// answer is an error naming it.
[[nodiscard]] Result<TxtAnswer> lookup_txt(const std::string& name, const std::string& server,
                                           std::chrono::milliseconds timeout);

}  // namespace ck::acme
