// CRL reading: OpenSSL's (core/pem.h parse_crl, for CRLs from elsewhere) and
// certkeeper's own streaming DER decoder (ca/crl_codec.h), with and without
// checking the signature against an issuer key.

#include "ca/crl_codec.h"
#include "core/keygen.h"
#include "core/pem.h"
#include "fuzz_input.h"

namespace {

EVP_PKEY* issuer_key() {
  static const ck::EvpPkeyPtr key = [] {
    auto k = ck::generate_key(ck::KeyType::EcP256);
    CK_ASSERT(k.has_value());
    return std::move(*k);
  }();
  return key.get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = ck::fuzz::text(data, size);
  (void)ck::parse_crl(in, "fuzz");
  if (auto crl = ck::ca::parse_crl_der(in, nullptr)) {
    for (const auto& e : crl->entries) {
      CK_ASSERT(!e.serial.empty());
      CK_ASSERT(e.reason >= 0 && e.reason <= 255);
    }
    // Nothing random verifies with a fresh key.
    CK_ASSERT(!ck::ca::parse_crl_der(in, issuer_key()).has_value());
  }
  return 0;
}
