#pragma once
// What one probe found: the served certificate and the TLS session, or where
// and why it failed.

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "probe/target.h"

namespace ck::probe {

/// Where a probe was when it ended.
enum class Phase { Resolve, Connect, StartTls, Handshake, Done };
[[nodiscard]] std::string_view phase_name(Phase phase);

struct ProbeResult {
  Target target;
  std::string address;  // the IP address connected to (empty before connect)
  bool ok = false;      // the handshake completed and a certificate was received
  std::string error;    // why not (empty when ok)
  Phase phase = Phase::Resolve;

  std::string tls_version;  // "TLSv1.3"
  std::string cipher;
  std::string subject;  // RFC 2253
  std::string issuer;
  std::vector<std::string> sans;
  std::string serial;  // upper-case hex
  Seconds not_before{};
  Seconds not_after{};
  long days_left = 0;  // whole days until notAfter (negative once expired)
  /// The earliest notAfter in the chain a client builds (the verified chain,
  /// root included; the chain as sent when it did not verify): an expiring
  /// intermediate breaks clients while the leaf is fine.
  Seconds chain_not_after{};
  std::string sha256;  // lower-case hex, no separators
  std::string md5;
  int chain_length = 0;  // certificates the server sent, leaf included
  bool verified = false;
  std::string verify_error;  // OpenSSL's reason when not verified
  bool hostname_match = false;
  bool ocsp_stapled = false;
  double elapsed_ms = 0;
};

}  // namespace ck::probe
