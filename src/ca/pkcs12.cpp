#include "ca/pkcs12.h"

#include <array>
#include <climits>

#include <openssl/err.h>

namespace ck::ca {

Result<P12Mode> parse_p12_mode(std::string_view name) {
  if (name == "modern")
    return P12Mode::Modern;
  if (name == "compat")
    return P12Mode::Compat;
  return fail(Code::InvalidArgument,
              "unknown PKCS#12 mode '" + std::string(name) + "' (use modern or compat)");
}

std::string_view p12_mode_name(P12Mode mode) {
  return mode == P12Mode::Modern ? "modern" : "compat";
}

Result<Secret> generate_password(RandomSource& random) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  constexpr std::size_t kSymbols = kAlphabet.size();
  static_assert(kSymbols == 57);
  // Rejection sampling keeps every symbol equally likely.
  constexpr std::uint8_t kLimit = 256 - (256 % kSymbols);
  std::string out;
  std::array<std::uint8_t, 64> buf{};
  while (out.size() < 24) {
    CK_TRY(random.fill(buf));
    for (const std::uint8_t b : buf) {
      if (b < kLimit && out.size() < 24) {
        out += kAlphabet[b % kSymbols];
      }
    }
  }
  Secret secret(std::move(out));
  ::OPENSSL_cleanse(buf.data(), buf.size());
  return secret;
}

Result<std::string> make_pkcs12(EVP_PKEY& key, X509& cert, X509& ca_cert, const Secret& password,
                                P12Mode mode, const std::string& friendly_name) {
  ::ERR_clear_error();
  X509StackPtr chain(sk_X509_new_null());
  auto ca_ref = share(ca_cert);
  if (!chain || sk_X509_push(chain.get(), ca_ref.get()) == 0) {
    return fail(ossl_error("build PKCS#12 chain"));
  }
  (void)ca_ref.release();
  const bool modern = mode == P12Mode::Modern;
  const int nid = modern ? NID_aes_256_cbc : NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
  // mac_iter -1: no MAC yet; PKCS12_set_mac below chooses digest and salt size.
  Pkcs12Ptr p12(::PKCS12_create_ex(password.reveal().c_str(), friendly_name.c_str(), &key, &cert,
                                   chain.get(), nid, nid, kPkcs12Iterations, -1, 0, nullptr,
                                   nullptr));
  if (!p12) {
    return fail(ossl_error("build PKCS#12 bundle"));
  }
  if (::PKCS12_set_mac(p12.get(), password.reveal().c_str(), -1, nullptr, 16, kPkcs12Iterations,
                       modern ? ::EVP_sha256() : ::EVP_sha1()) != 1) {
    return fail(ossl_error("add PKCS#12 MAC"));
  }
  unsigned char* buf = nullptr;
  const int len = ::i2d_PKCS12(p12.get(), &buf);
  if (len <= 0) {
    return fail(ossl_error("encode PKCS#12 bundle"));
  }
  std::string der(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  ::OPENSSL_free(buf);
  return der;
}

Status check_pkcs12(std::string_view der, const Secret& password, const X509& cert,
                    P12Check depth) {
  ::ERR_clear_error();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Pkcs12Ptr p12(::d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
  if (!p12) {
    return fail(ossl_error("re-read PKCS#12 bundle"));
  }
  if (depth == P12Check::Mac) {
    if (::PKCS12_verify_mac(p12.get(), password.reveal().c_str(),
                            static_cast<int>(password.reveal().size())) != 1) {
      return fail(ossl_error("PKCS#12 bundle's MAC does not verify with its password"));
    }
    return {};
  }
  // PKCS12_parse verifies the MAC itself before decrypting anything.
  EVP_PKEY* raw_key = nullptr;
  X509* raw_cert = nullptr;
  STACK_OF(X509)* raw_ca = nullptr;
  if (::PKCS12_parse(p12.get(), password.reveal().c_str(), &raw_key, &raw_cert, &raw_ca) != 1) {
    return fail(ossl_error("PKCS#12 bundle does not open with its password"));
  }
  EvpPkeyPtr key(raw_key);
  X509Ptr got(raw_cert);
  X509StackPtr ca(raw_ca);
  if (!key || !got || ::X509_cmp(got.get(), &cert) != 0) {
    return fail(Code::Internal, "PKCS#12 bundle does not hold the issued certificate");
  }
  if (::X509_check_private_key(got.get(), key.get()) != 1) {
    return fail(ossl_error("PKCS#12 key does not match its certificate", Code::Internal));
  }
  return {};
}

}  // namespace ck::ca
