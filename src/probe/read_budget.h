#pragma once
// What one TLS peer may make a probe read. OpenSSL reads from its BIO for as
// long as the BIO has bytes, and skips some records in a loop (a client
// discards HelloRequest messages until the ServerHello), so a peer that sends
// such records without end would keep SSL_do_handshake, and the whole event
// loop, busy forever. The probe reads through a filter BIO that hands OpenSSL
// a bounded number of bytes per readiness event and per handshake, then says
// "retry": OpenSSL returns WANT_READ, and the loop checks its deadlines.
//
// Bytes bound records too: a record is at least 5 bytes.

#include <cstddef>

#include <openssl/bio.h>

#include "core/ossl.h"

namespace ck::probe {

/// Bytes a probe reads per readiness event before the loop takes its turn
/// again: one full TLS record. A server's first flight is a few KiB.
inline constexpr std::size_t kReadPerEvent = 16 * 1024;
/// Bytes a server may send from the ClientHello on without completing the
/// handshake. The largest legitimate flight (a 64 KiB chain, a long list of
/// acceptable CAs, a stapled OCSP response) stays well under it.
inline constexpr std::size_t kReadPerHandshake = 256 * 1024;

/// Why the filter last refused to read.
enum class BudgetStop {
  None,
  Event,      // this event's share is spent; bytes may still be waiting
  Handshake,  // the peer sent kReadPerHandshake bytes: end the probe
};

/// A filter over `next` (taken over) that limits reads as above; writes and
/// controls pass through. Null when out of memory (then `next` is freed).
[[nodiscard]] BioPtr read_budget_bio(BioPtr next);

/// Starts a readiness event: the per-event share is full again.
void begin_read_event(BIO* budget);

/// Why the filter last refused a read since begin_read_event.
[[nodiscard]] BudgetStop read_budget_stop(BIO* budget);

}  // namespace ck::probe
