#pragma once
// What a server's HTTP answer says of the client certificate the probe sent
// (or of its having sent none). nginx does not fail the handshake over a
// client certificate: it completes it, then answers 400 with "The SSL
// certificate error" or "No required SSL certificate was sent" (495 and 496
// when an error_page maps them). Pure: the scanner feeds it what it read.

#include <cstddef>
#include <optional>
#include <string_view>

#include "probe/result.h"

namespace ck::probe {

/// The bytes of an answer read before deciding; an nginx error page is far
/// below it.
inline constexpr std::size_t kMaxHttpAnswer = 16 * 1024;

struct HttpVerdict {
  ClientVerdict verdict;
  int status = 0;  // 0: the answer was not HTTP
};

/// `answer`: what was read so far; `complete`: the server closed (or the
/// deadline came). nullopt: read more. A 400 without nginx's certificate
/// wording is the application's own answer: the certificate got past TLS.
[[nodiscard]] std::optional<HttpVerdict> http_verdict(std::string_view answer, bool complete);

}  // namespace ck::probe
