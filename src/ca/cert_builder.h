#pragma once
// Building and signing X.509 certificates: the CA's own and users' client
// certificates. Times and serials are parameters; nothing here reads a clock.

#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/ossl.h"
#include "store/types.h"

namespace ck::ca {

struct CaCertRequest {
  std::string name;    // becomes CN
  std::string serial;  // magnitude bytes
  Seconds not_before{};
  Seconds not_after{};
};

/// Self-signed CA certificate: basicConstraints CA:TRUE (critical), keyUsage
/// keyCertSign+cRLSign (critical), subjectKeyIdentifier.
[[nodiscard]] Result<X509Ptr> make_ca_cert(EVP_PKEY& key, const CaCertRequest& req);

struct ClientCertRequest {
  const store::UserProfile* profile = nullptr;
  EVP_PKEY* public_key = nullptr;  // the user's key (only the public half is used)
  std::string serial;
  Seconds not_before{};
  Seconds not_after{};
  /// Check the signature against the CA certificate before returning. Off
  /// only where the CA key is OpenSSL's own in this process (bulk issuance's
  /// hot path, where a check costs more than the signature); a key in a
  /// token is always checked (issue 21: nothing it signs is stored
  /// unchecked).
  bool check_signature = true;
};

/// Client certificate: subject from the profile, SAN email, keyUsage
/// digitalSignature (+keyEncipherment for RSA), extendedKeyUsage clientAuth,
/// basicConstraints CA:FALSE, AKI/SKI.
[[nodiscard]] Result<X509Ptr> make_client_cert(X509& ca_cert, EVP_PKEY& ca_key,
                                               const ClientCertRequest& req);

struct CertFacts {
  std::string serial;  // magnitude bytes
  Seconds not_before{};
  Seconds not_after{};
  std::string subject;  // RFC 2253 form
};

[[nodiscard]] Result<CertFacts> cert_facts(const X509& cert);

}  // namespace ck::ca
