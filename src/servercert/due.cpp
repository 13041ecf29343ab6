#include "servercert/due.h"

#include "core/duration.h"
#include "core/time_format.h"

namespace ck::servercert {

DueDecision renewal_due(Seconds not_before, Seconds not_after, Seconds now,
                        const std::optional<RenewalWindow>& ari,
                        const std::optional<std::chrono::seconds>& before) {
  DueDecision d;
  if (ari) {
    // RFC 9773 §4.2 lets a client pick any time in the window; the start is
    // what a daily run can act on without racing the end.
    d.at = ari->start;
    d.reason = "the ACME server's renewal window opens " + format_iso8601(ari->start);
  } else if (before) {
    d.at = not_after - *before;
    d.reason = format_duration(*before) + " before expiry (--before)";
  } else {
    d.at = not_after - (not_after - not_before) / 3;
    d.reason = "a third of the lifetime left";
  }
  d.due = now >= d.at;
  return d;
}

}  // namespace ck::servercert
