#include "core/ossl.h"

#include <openssl/err.h>

namespace ck {

X509Ptr share(X509& cert) {
  ::X509_up_ref(&cert);
  return X509Ptr(&cert);
}

EvpPkeyPtr share(EVP_PKEY& key) {
  ::EVP_PKEY_up_ref(&key);
  return EvpPkeyPtr(&key);
}

Error ossl_error(std::string_view what, Code code) {
  std::string detail;
  unsigned long err = 0;
  while ((err = ::ERR_get_error()) != 0) {
    char buf[256];
    ::ERR_error_string_n(err, buf, sizeof buf);
    if (!detail.empty()) {
      detail += "; ";
    }
    detail += buf;
  }
  return Error{code, std::string(what), std::move(detail)};
}

std::string ossl_last_reason() {
  const unsigned long err = ::ERR_peek_last_error();
  if (err == 0) {
    return {};
  }
  const char* reason = ::ERR_reason_error_string(err);
  return reason != nullptr ? reason : "";
}

}  // namespace ck
