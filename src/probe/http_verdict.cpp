#include "probe/http_verdict.h"

namespace ck::probe {

std::optional<HttpVerdict> http_verdict(std::string_view answer, bool complete) {
  const bool final = complete || answer.size() >= kMaxHttpAnswer;
  const auto eol = answer.find("\r\n");
  if (eol == std::string_view::npos) {
    if (!final)
      return std::nullopt;
    // Closed without a word, or something that is not HTTP (past TLS).
    return HttpVerdict{answer.empty() ? ClientVerdict::Closed : ClientVerdict::Accepted, 0};
  }
  const std::string_view line = answer.substr(0, eol);
  int status = 0;
  // "HTTP/1.1 400 Bad Request": three digits after the version.
  if (line.starts_with("HTTP/") && line.size() >= 12 && line[8] == ' ') {
    for (std::size_t i = 9; i < 12; ++i) {
      if (line[i] < '0' || line[i] > '9') {
        status = 0;
        break;
      }
      status = status * 10 + (line[i] - '0');
    }
    // "HTTP/1.1 099" or "HTTP/1.1 2000" is no status line.
    if ((line.size() > 12 && line[12] != ' ') || status < 100)
      status = 0;
  }
  if (status == 495 || status == 496)
    return HttpVerdict{ClientVerdict::RefusedHttp, status};
  if (status != 400)
    return HttpVerdict{ClientVerdict::Accepted, status};
  if (answer.find("SSL certificate") != std::string_view::npos)
    return HttpVerdict{ClientVerdict::RefusedHttp, status};
  if (final)
    return HttpVerdict{ClientVerdict::Accepted, status};
  return std::nullopt;
}

}  // namespace ck::probe
