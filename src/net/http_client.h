#pragma once
// One HTTP(S) request through libcurl, with a deadline and a cap on what the
// peer may send back.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace ck::net {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  /// "Name: value" lines. An Authorization header is sent but never shown.
  std::vector<std::string> headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};
  /// Trust anchors for https (PEM); the system store when empty.
  std::optional<std::filesystem::path> ca_file;
  std::size_t max_response_bytes = 1 << 20;
};

struct HttpResponse {
  long status = 0;
  std::string content_type;
  std::string body;
  /// Every response header in order, names in lower case.
  std::vector<std::pair<std::string, std::string>> headers;

  /// The first header called `name` (lower case), or "".
  [[nodiscard]] std::string header(std::string_view name) const;
};

/// Requests over one libcurl handle, so consecutive requests to one server
/// reuse its connection (and TLS session): an ACME order is a dozen requests.
class HttpSession {
 public:
  HttpSession();
  ~HttpSession();
  HttpSession(HttpSession&&) noexcept;
  HttpSession& operator=(HttpSession&&) noexcept;

  /// Performs the request. A transport failure (refused, timeout, TLS) is an
  /// error naming the host; any HTTP status is a response (callers decide).
  [[nodiscard]] Result<HttpResponse> send(const HttpRequest& req);

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
};

/// One request on a fresh handle (HttpSession::send).
[[nodiscard]] Result<HttpResponse> http_request(const HttpRequest& req);

/// application/x-www-form-urlencoded body from name/value pairs.
[[nodiscard]] std::string form_encode(
    const std::vector<std::pair<std::string, std::string>>& fields);

/// RFC 3986 percent-encoding of everything but the unreserved characters.
[[nodiscard]] std::string percent_encode(std::string_view text);

/// Where a URL points (scheme, host, port), without user info, path or
/// query, which may hold a token: safe in a message.
[[nodiscard]] std::string redact_url(const std::string& url);

}  // namespace ck::net
