#pragma once
// Reading the parts of a certificate that people look at: names and SANs.

#include <string>
#include <vector>

#include "core/ossl.h"

namespace ck {

/// "CN=alice,O=Example" (RFC 2253 order and escaping, as `openssl x509 -nameopt RFC2253`).
[[nodiscard]] std::string name_rfc2253(const X509_NAME& name);
/// The same for people to read: non-ASCII characters as UTF-8 ("CN=Ålice")
/// instead of RFC 2253's escapes ("CN=\C3\85lice"); control characters and
/// RFC 2253's specials are still escaped.
[[nodiscard]] std::string name_for_people(const X509_NAME& name);

/// The subjectAltName entries people match against: DNS names as they are,
/// IP addresses as text, e-mail addresses; an empty list when there is none.
[[nodiscard]] std::vector<std::string> subject_alt_names(const X509& cert);

}  // namespace ck
