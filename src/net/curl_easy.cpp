#include "net/curl_easy.h"

#include <mutex>

namespace ck::net {
namespace {

Status global_init() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) {
    return fail(Code::Internal,
                std::string("libcurl initialisation failed: ") + curl_easy_strerror(rc));
  }
  return {};
}

}  // namespace

Result<CurlEasyPtr> new_easy() {
  CK_TRY(global_init());
  CurlEasyPtr h(curl_easy_init());
  if (!h)
    return fail(Code::Internal, "libcurl: cannot create a transfer handle");
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h.get(), CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h.get(), CURLOPT_SSL_VERIFYHOST, 2L);
  return h;
}

Status append(CurlSlistPtr& list, const std::string& item) {
  curl_slist* grown = curl_slist_append(list.get(), item.c_str());
  if (grown == nullptr)
    return fail(Code::Internal, "libcurl: out of memory");
  (void)list.release();  // `grown` is the same list with one more node
  list.reset(grown);
  return {};
}

Status perform(CURL* h, const std::string& what) {
  char buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, buffer);
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (rc == CURLE_OK)
    return {};
  const std::string reason = buffer[0] != '\0' ? buffer : curl_easy_strerror(rc);
  Code code = Code::Unavailable;
  if (rc == CURLE_OPERATION_TIMEDOUT)
    code = Code::DeadlineExceeded;
  else if (rc == CURLE_LOGIN_DENIED)
    code = Code::PermissionDenied;
  return fail(code, what + ": " + reason);
}

std::string redact_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return "(URL)";
  const auto host_start = scheme_end + 3;
  auto host_end = url.find_first_of("/?#", host_start);
  if (host_end == std::string::npos)
    host_end = url.size();
  std::string authority = url.substr(host_start, host_end - host_start);
  if (const auto at = authority.rfind('@'); at != std::string::npos)
    authority.erase(0, at + 1);
  // Paths and queries are left out: webhook URLs often carry their token there.
  return url.substr(0, host_start) + authority + (host_end < url.size() ? "/…" : "");
}

}  // namespace ck::net
