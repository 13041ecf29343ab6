// PEM/DER certificate, chain, CSR and private key reading (core/pem.h), and
// the names shown for a certificate that parsed (core/cert_info.h).

#include "core/cert_info.h"
#include "core/pem.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = ck::fuzz::text(data, size);
  if (auto cert = ck::parse_cert(in, "fuzz")) {
    const X509& c = **cert;
    (void)ck::name_rfc2253(*::X509_get_subject_name(&c));
    (void)ck::name_rfc2253(*::X509_get_issuer_name(&c));
    (void)ck::subject_alt_names(c);
    // What parsed is written back, and that reads back to the same bytes.
    auto der = ck::cert_to_der(c);
    CK_ASSERT(der.has_value());
    auto again = ck::cert_from_der(*der);
    CK_ASSERT(again.has_value());
    auto der2 = ck::cert_to_der(**again);
    CK_ASSERT(der2.has_value() && *der2 == *der);
  }
  if (auto chain = ck::parse_cert_chain(in, "fuzz")) {
    for (const auto& c : *chain)
      (void)ck::subject_alt_names(*c);
  }
  (void)ck::parse_csr(in, "fuzz");
  // No passphrase: an encrypted key must be refused, never prompted for.
  (void)ck::parse_private_key(in, "fuzz", nullptr);
  (void)ck::is_encrypted_key_pem(in);
  return 0;
}
