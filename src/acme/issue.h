#pragma once
// One certificate order from start to finish (RFC 8555 §7.4): order,
// authorizations, challenges through a Solver, finalize with a CSR for a new
// key, polling, and the chain. The solver's answers are always taken down.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "acme/client.h"
#include "acme/solver.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/keygen.h"
#include "core/ossl.h"

namespace ck::acme {

struct OrderRequest {
  std::vector<std::string> domains;  // "*.example.org" for a wildcard
  KeyType key_type = KeyType::EcP256;
  std::string replaces;  // RFC 9773 certificate ID of the certificate renewed
  std::string profile;
  std::chrono::seconds timeout{300};  // validation + issuance
};

struct Issued {
  X509Ptr cert;
  std::vector<X509Ptr> chain;  // issuers as the server sent them
  EvpPkeyPtr key;
  std::vector<std::string> warnings;  // cleanup that failed
};

/// Reports steps ("example.org: http-01 answered").
using Progress = std::function<void(const std::string&)>;

[[nodiscard]] Result<Issued> issue(Client& client, Solver& solver, const OrderRequest& req,
                                   const Clock& clock, const Sleep& sleep,
                                   const Progress& progress);

/// A CSR for `domains` signed by `key`: subjectAltName with every name, CN
/// the first name when it fits (64 characters).
[[nodiscard]] Result<std::string> make_csr_der(EVP_PKEY& key,
                                               const std::vector<std::string>& domains);

/// Checks a domain name as an ACME dns identifier: letters, digits,
/// hyphens, dots, a leading "*." for a wildcard; lower-cases it.
[[nodiscard]] Result<std::string> normalize_domain(std::string_view domain);

}  // namespace ck::acme
