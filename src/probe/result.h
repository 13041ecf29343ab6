#pragma once
// What one probe found: the served certificate and the TLS session, or where
// and why it failed.

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "probe/target.h"

namespace ck::probe {

/// Where a probe was when it ended. Request: after the handshake, asking the
/// server (HTTP GET, or waiting for its first record) what it made of the
/// client certificate; a probe that ends there still has its handshake facts.
enum class Phase { Resolve, Connect, StartTls, Handshake, Request, Done };
[[nodiscard]] std::string_view phase_name(Phase phase);

/// What the server made of our client certificate (or of our having none).
/// NotChecked: nothing was asked of the server after the handshake (no
/// client certificate was sent and the target is not https://).
enum class ClientVerdict {
  NotChecked,
  Accepted,      // the server went on: TLS 1.2 handshake done, a TLS 1.3 record, or an HTTP answer
  RefusedAlert,  // a fatal TLS alert after our Certificate message
  RefusedHttp,   // an HTTP certificate error (nginx: 400 "SSL certificate", 495, 496)
  Closed,        // the server closed the connection without answering
  NoAnswer,      // nothing before the deadline: not known
};
[[nodiscard]] std::string_view client_verdict_name(ClientVerdict verdict);

struct ClientAuth {
  bool requested = false;  // the server sent a CertificateRequest
  /// The CA names it lists as acceptable (certificate_authorities), RFC 2253.
  std::vector<std::string> acceptable_cas;
  bool sent = false;  // we answered with a certificate (not an empty list)
  ClientVerdict verdict = ClientVerdict::NotChecked;
  std::string alert;    // the fatal alert's description, when one came
  int http_status = 0;  // the HTTP answer's status, when one came
};

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
  ClientAuth client;
  double elapsed_ms = 0;
};

}  // namespace ck::probe
