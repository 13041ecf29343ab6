#include "servercert/material.h"

#include <algorithm>

#include <openssl/err.h>

#include "core/cert_info.h"
#include "core/pem.h"
#include "core/time_format.h"

namespace ck::servercert {
namespace {

bool issued_by(X509& child, X509& parent) {
  if (::X509_check_issued(&parent, &child) != X509_V_OK)
    return false;
  EvpPkeyPtr key(::X509_get_pubkey(&parent));
  return key && ::X509_verify(&child, key.get()) == 1;
}

}  // namespace

Status check_material(Material& m, Seconds now, std::string_view source) {
  const std::string src(source);
  if (::X509_check_private_key(m.cert.get(), m.key.get()) != 1) {
    ::ERR_clear_error();
    return fail(Code::InvalidArgument, src + ": the key does not match the certificate");
  }
  CK_ASSIGN(const auto not_after, from_asn1_time(*::X509_get0_notAfter(m.cert.get())));
  if (not_after <= now) {
    return fail(Code::InvalidArgument,
                src + ": the certificate expired at " + format_iso8601(not_after));
  }
  // Order the chain by walking up from the leaf; what is left over is not
  // part of this certificate's path.
  std::vector<X509Ptr> rest = std::move(m.chain);
  std::vector<X509Ptr> ordered;
  X509* current = m.cert.get();
  while (!rest.empty()) {
    auto it = std::find_if(rest.begin(), rest.end(),
                           [&](const X509Ptr& c) { return issued_by(*current, *c); });
    if (it == rest.end())
      break;
    ordered.push_back(std::move(*it));
    rest.erase(it);
    current = ordered.back().get();
    if (::X509_check_issued(current, current) == X509_V_OK)
      break;  // a self-signed root ends the path
  }
  if (!rest.empty()) {
    const std::string name = name_rfc2253(*::X509_get_subject_name(rest.front().get()));
    return fail(
        Code::InvalidArgument,
        src + ": the chain has a certificate that does not issue the one below it (" + name + ")");
  }
  ::ERR_clear_error();
  m.chain = std::move(ordered);
  return {};
}

Result<std::string> chain_pem(const Material& m) {
  std::string out;
  for (const auto& c : m.chain) {
    CK_ASSIGN(const auto pem, cert_to_pem(*c));
    out += pem;
  }
  return out;
}

}  // namespace ck::servercert
