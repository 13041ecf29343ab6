#pragma once
// When a server certificate is due for renewal (`acme renew`):
// the ACME server's renewal window (RFC 9773) if it offers one, else a fixed
// --before, else when a third of the lifetime remains, so a 6-day certificate
// renews after 4 days and a 90-day one after 60.

#include <chrono>
#include <optional>
#include <string>

#include "core/clock.h"

namespace ck::servercert {

struct RenewalWindow {
  Seconds start{};
  Seconds end{};
};

struct DueDecision {
  bool due = false;
  Seconds at{};        // when it is (was) due
  std::string reason;  // "ARI window opened 2026-…", "a third of the lifetime left", …
};

[[nodiscard]] DueDecision renewal_due(Seconds not_before, Seconds not_after, Seconds now,
                                      const std::optional<RenewalWindow>& ari,
                                      const std::optional<std::chrono::seconds>& before);

}  // namespace ck::servercert
