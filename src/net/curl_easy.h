#pragma once
// RAII for libcurl easy handles and header lists, and the one-time global
// initialisation libcurl needs before any thread uses it.

#include <memory>
#include <string>

#include <curl/curl.h>

#include "core/error.h"
#include "net/http_client.h"  // redact_url

namespace ck::net {

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

/// A new easy handle (after global init), with the settings every transfer
/// of certkeeper shares: no signals, no redirects, TLS verification on.
[[nodiscard]] Result<CurlEasyPtr> new_easy();

/// Appends to a header/recipient list, keeping ownership in `list`.
[[nodiscard]] Status append(CurlSlistPtr& list, const std::string& item);

/// Runs the transfer; a failure names `what` and carries curl's own message
/// (from the error buffer), never a credential.
[[nodiscard]] Status perform(CURL* h, const std::string& what);

}  // namespace ck::net
