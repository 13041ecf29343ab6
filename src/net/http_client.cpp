#include "net/http_client.h"

#include "net/curl_easy.h"

#include <cctype>

namespace ck::net {
namespace {

struct Sink {
  std::string* body;
  std::size_t limit;
  bool overflow = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->limit) {
    sink->overflow = true;
    return 0;  // makes curl abort the transfer
  }
  sink->body->append(data, bytes);
  return bytes;
}

// Collects "Name: value" header lines; a status line (a new response after
// a 100 Continue) starts the list again.
std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  const std::size_t bytes = size * n;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    headers->clear();
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos)
    return bytes;
  std::string name(line.substr(0, colon));
  for (auto& ch : name)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  headers->emplace_back(std::move(name), std::string(value));
  return bytes;
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3 / 2);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty())
      out += '&';
    out += percent_encode(name);
    out += '=';
    out += percent_encode(value);
  }
  return out;
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name)
      return value;
  }
  return {};
}

struct HttpSession::Handle {
  CurlEasyPtr easy;
};

HttpSession::HttpSession() = default;
HttpSession::~HttpSession() = default;
HttpSession::HttpSession(HttpSession&&) noexcept = default;
HttpSession& HttpSession::operator=(HttpSession&&) noexcept = default;

Result<HttpResponse> HttpSession::send(const HttpRequest& req) {
  if (!handle_) {
    CK_ASSIGN(auto easy, new_easy());
    handle_ = std::make_unique<Handle>(Handle{std::move(easy)});
  } else {
    // Options go back to the defaults; the connection cache stays.
    reset_easy(handle_->easy.get());
  }
  CURL* c = handle_->easy.get();
  const std::string where = req.method + " " + redact_url(req.url);
  CurlSlistPtr headers;
  for (const auto& line : req.headers)
    CK_TRY(append(headers, line));
  HttpResponse resp;
  Sink sink{&resp.body, req.max_response_bytes};
  curl().easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl().easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (req.method == "HEAD") {
    // A custom "HEAD" would still make curl wait for a body the server
    // never sends (HTTP/1.1 without Content-Length): NOBODY is a real HEAD.
    curl().easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl().easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (req.method == "POST" || req.method == "PUT" || !req.body.empty()) {
    curl().easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    curl().easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  curl().easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl().easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl().easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl().easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl().easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl().easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);
  curl().easy_setopt(c, CURLOPT_USERAGENT, "certkeeper/" CK_VERSION);
  if (req.ca_file)
    curl().easy_setopt(c, CURLOPT_CAINFO, req.ca_file->c_str());
  auto done = perform(c, where);
  if (sink.overflow) {
    return fail(Code::Protocol, where + ": response larger than " +
                                    std::to_string(req.max_response_bytes) + " bytes");
  }
  CK_TRY(done);
  curl().easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  const char* type = nullptr;
  if (curl().easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr)
    resp.content_type = type;
  return resp;
}

Result<HttpResponse> http_request(const HttpRequest& req) {
  HttpSession session;
  return session.send(req);
}

}  // namespace ck::net
