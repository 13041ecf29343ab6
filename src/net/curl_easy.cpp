#include "net/curl_easy.h"

#include <dlfcn.h>

#include <mutex>

namespace ck::net {
namespace {

// The soname of Debian's libcurl4 (libcurl4-openssl-dev's runtime).
constexpr const char* kLibcurl = "libcurl.so.4";

CurlApi g_api{};
Status g_loaded = fail(Code::Internal, "libcurl not loaded");

template <class Fn>
bool resolve(void* lib, const char* name, Fn& out) {
  void* sym = ::dlsym(lib, name);
  out = reinterpret_cast<Fn>(sym);
  return sym != nullptr;
}

Status load() {
  void* lib = ::dlopen(kLibcurl, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    return fail(Code::FailedPrecondition, std::string("cannot load ") + kLibcurl +
                                              " (install Debian's libcurl4): " + ::dlerror());
  }
  CurlApi api{};
  const bool ok = resolve(lib, "curl_global_init", api.global_init) &&
                  resolve(lib, "curl_easy_init", api.easy_init) &&
                  resolve(lib, "curl_easy_cleanup", api.easy_cleanup) &&
                  resolve(lib, "curl_easy_reset", api.easy_reset) &&
                  resolve(lib, "curl_easy_setopt", api.easy_setopt) &&
                  resolve(lib, "curl_easy_perform", api.easy_perform) &&
                  resolve(lib, "curl_easy_getinfo", api.easy_getinfo) &&
                  resolve(lib, "curl_easy_strerror", api.easy_strerror) &&
                  resolve(lib, "curl_slist_append", api.slist_append) &&
                  resolve(lib, "curl_slist_free_all", api.slist_free_all);
  if (!ok)
    return fail(Code::FailedPrecondition, std::string(kLibcurl) + ": " + ::dlerror());
  // Kept loaded for the life of the process (handles may outlive callers).
  const CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    return fail(Code::Internal,
                std::string("libcurl initialisation failed: ") + api.easy_strerror(rc));
  }
  g_api = api;
  return {};
}

Status ensure_loaded() {
  static std::once_flag once;
  std::call_once(once, [] { g_loaded = load(); });
  return g_loaded;
}

}  // namespace

const CurlApi& curl() {
  CK_ASSERT(g_api.easy_init != nullptr);
  return g_api;
}

namespace {

void apply_defaults(CURL* h) {
  curl().easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl().easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl().easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl().easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
}

}  // namespace

Result<CurlEasyPtr> new_easy() {
  CK_TRY(ensure_loaded());
  CurlEasyPtr h(curl().easy_init());
  if (!h)
    return fail(Code::Internal, "libcurl: cannot create a transfer handle");
  apply_defaults(h.get());
  return h;
}

void reset_easy(CURL* h) {
  curl().easy_reset(h);
  apply_defaults(h);
}

Status append(CurlSlistPtr& list, const std::string& item) {
  curl_slist* grown = curl().slist_append(list.get(), item.c_str());
  if (grown == nullptr)
    return fail(Code::Internal, "libcurl: out of memory");
  (void)list.release();  // `grown` is the same list with one more node
  list.reset(grown);
  return {};
}

Status perform(CURL* h, const std::string& what) {
  char buffer[CURL_ERROR_SIZE] = {};
  curl().easy_setopt(h, CURLOPT_ERRORBUFFER, buffer);
  const CURLcode rc = curl().easy_perform(h);
  curl().easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (rc == CURLE_OK)
    return {};
  const std::string reason = buffer[0] != '\0' ? buffer : curl().easy_strerror(rc);
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
