#include "ca/canary.h"

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ca/cert_builder.h"
#include "ca/serial.h"
#include "core/keygen.h"
#include "core/pem.h"

namespace ck::ca {
namespace {

// Binds a sealed key to its canary: a blob moved to another row fails.
std::string seal_context(std::string_view serial) {
  return "crl canary " + serial_hex(serial);
}

}  // namespace

Result<IssuedCanary> issue_canary(X509& ca_cert, EVP_PKEY& ca_key, store::CanaryPurpose purpose,
                                  Seconds not_before, Seconds not_after, const CanarySeal* seal,
                                  RandomSource& random, const store::UserProfile* subject) {
  if (purpose == store::CanaryPurpose::Crl && seal == nullptr)
    return fail(Code::Internal, "a CRL canary's key must be sealed");
  IssuedCanary out;
  CK_ASSIGN(out.key, generate_key(KeyType::EcP256));
  CK_ASSIGN(const std::string serial, random_serial(random));
  store::UserProfile profile;
  profile.name = "certkeeper-canary";
  profile.cn = std::string(kCanaryName);
  profile.email = "canary@certkeeper.invalid";  // RFC 6761: never anyone's address
  profile.org = "certkeeper";
  profile.ou = "CRL canary";
  ClientCertRequest req;
  req.profile = subject != nullptr ? subject : &profile;
  req.public_key = out.key.get();
  req.serial = serial;
  req.not_before = not_before;
  req.not_after = not_after;
  CK_ASSIGN(out.cert, make_client_cert(ca_cert, ca_key, req));
  auto& r = out.record;
  r.serial = serial;
  r.purpose = purpose;
  r.not_before = not_before;
  r.not_after = not_after;
  r.revoked_at = not_before;  // revoked from the start: it is never anyone's credential
  CK_ASSIGN(r.der, cert_to_der(*out.cert));
  // The builder writes the public key's encoding directly; a certificate
  // read back from its DER is what a TLS stack (and a key check) expects.
  CK_ASSIGN(out.cert, cert_from_der(r.der));
  if (purpose == store::CanaryPurpose::Crl) {
    CK_ASSIGN(const std::string pem, private_key_to_pem(*out.key, nullptr));
    CK_ASSIGN(r.sealed_key, seal->seal(pem, seal_context(serial), random));
  }
  return out;
}

Result<IssuedCanary> open_canary(const store::CanaryRecord& record, const CanarySeal& seal) {
  IssuedCanary out;
  out.record = record;
  CK_ASSIGN(out.cert, cert_from_der(record.der));
  if (record.sealed_key.empty())
    return fail(Code::NotFound, "canary " + serial_hex(record.serial) + " has no key kept");
  CK_ASSIGN(const std::string pem, seal.open(record.sealed_key, seal_context(record.serial)));
  CK_ASSIGN(out.key, parse_private_key(pem, "canary " + serial_hex(record.serial), nullptr));
  return out;
}

}  // namespace ck::ca
