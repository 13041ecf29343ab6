#pragma once
// libcurl, loaded on first use, with RAII for easy handles and header lists.
//
// Why dlopen instead of linking: libcurl pulls about 17 more shared libraries
// (GnuTLS, Kerberos, LDAP, ...) into every process that links it, 4 ms on
// every certkeeper start, while only `notify` and `acme` talk HTTP or SMTP.
// Types and constants still come from <curl/curl.h>.

#include <memory>
#include <string>

#include <curl/curl.h>

#include "core/error.h"
#include "net/http_client.h"  // redact_url

namespace ck::net {

/// The libcurl entry points certkeeper uses.
struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL* handle);
  void (*easy_reset)(CURL* handle);
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* handle);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  const char* (*easy_strerror)(CURLcode code);
  curl_slist* (*slist_append)(curl_slist* list, const char* item);
  void (*slist_free_all)(curl_slist* list);
};

/// libcurl, loaded and initialised once; valid after new_easy() succeeded.
[[nodiscard]] const CurlApi& curl();

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl().easy_cleanup(h); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl().slist_free_all(l); }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

/// A new easy handle (loading libcurl first), with the settings every
/// transfer of certkeeper shares: no signals, no redirects, TLS verification on.
[[nodiscard]] Result<CurlEasyPtr> new_easy();

/// Puts a handle back to the settings new_easy() gives, keeping its
/// connection cache.
void reset_easy(CURL* h);

/// Appends to a header/recipient list, keeping ownership in `list`.
[[nodiscard]] Status append(CurlSlistPtr& list, const std::string& item);

/// Runs the transfer; a failure names `what` and carries curl's own message
/// (from the error buffer), never a credential.
[[nodiscard]] Status perform(CURL* h, const std::string& what);

}  // namespace ck::net
