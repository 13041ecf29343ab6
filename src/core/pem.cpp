#include "core/pem.h"

#include <climits>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/file_io.h"

namespace ck {
namespace {

BioPtr mem_bio(std::string_view data) {
  CK_ASSERT(data.size() <= INT_MAX);
  return BioPtr(::BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

bool looks_like_pem(std::string_view data) {
  return data.find("-----BEGIN ") != std::string_view::npos;
}

std::string bio_contents(BIO& bio) {
  char* ptr = nullptr;
  const long len = BIO_get_mem_data(&bio, &ptr);
  return std::string(ptr, static_cast<std::size_t>(len));
}

Error bad_input(std::string_view source, std::string_view what) {
  ::ERR_clear_error();
  return Error{Code::InvalidArgument, "'" + std::string(source) + "': " + std::string(what), {}};
}

// Hands the passphrase to OpenSSL; with none, refuses instead of prompting.
int passphrase_cb(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* secret = static_cast<const Secret*>(user);
  if (secret == nullptr || secret->empty()) {
    return -1;
  }
  const auto& value = secret->reveal();
  if (value.size() > static_cast<std::size_t>(size)) {
    return -1;
  }
  std::memcpy(buf, value.data(), value.size());
  return static_cast<int>(value.size());
}

template <class T, class PemFn, class DerFn>
Result<T> parse_either(std::string_view data, std::string_view source, std::string_view what,
                       PemFn pem_fn, DerFn der_fn) {
  ::ERR_clear_error();
  T out;
  if (looks_like_pem(data)) {
    auto bio = mem_bio(data);
    out.reset(pem_fn(bio.get()));
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    out.reset(der_fn(&p, static_cast<long>(data.size())));
    // Trailing bytes after a DER object mean a truncated or concatenated file.
    if (out && p != reinterpret_cast<const unsigned char*>(data.data()) + data.size()) {
      out.reset();
    }
  }
  if (!out) {
    return fail(bad_input(source, "not a valid PEM or DER " + std::string(what)));
  }
  return out;
}

}  // namespace

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    value_ = std::move(other.value_);
    other.wipe();
  }
  return *this;
}

// The whole buffer: a short secret sits in the string object itself, and a
// moved-from string keeps all but its first byte there.
void Secret::wipe() noexcept {
  ::OPENSSL_cleanse(value_.data(), value_.capacity());
  value_.clear();
}

Result<X509Ptr> parse_cert(std::string_view data, std::string_view source) {
  return parse_either<X509Ptr>(
      data, source, "certificate",
      [](BIO* b) { return ::PEM_read_bio_X509(b, nullptr, nullptr, nullptr); },
      [](const unsigned char** p, long n) { return ::d2i_X509(nullptr, p, n); });
}

Result<X509Ptr> load_cert(const std::filesystem::path& path) {
  CK_ASSIGN(const auto data, read_file(path, kPemInput));
  return parse_cert(data, path.string());
}

Result<X509ReqPtr> parse_csr(std::string_view data, std::string_view source) {
  return parse_either<X509ReqPtr>(
      data, source, "certificate signing request",
      [](BIO* b) { return ::PEM_read_bio_X509_REQ(b, nullptr, nullptr, nullptr); },
      [](const unsigned char** p, long n) { return ::d2i_X509_REQ(nullptr, p, n); });
}

Result<X509ReqPtr> load_csr(const std::filesystem::path& path) {
  CK_ASSIGN(const auto data, read_file(path, kPemInput));
  return parse_csr(data, path.string());
}

Result<X509CrlPtr> parse_crl(std::string_view data, std::string_view source) {
  return parse_either<X509CrlPtr>(
      data, source, "CRL",
      [](BIO* b) { return ::PEM_read_bio_X509_CRL(b, nullptr, nullptr, nullptr); },
      [](const unsigned char** p, long n) { return ::d2i_X509_CRL(nullptr, p, n); });
}

Result<EvpPkeyPtr> parse_private_key(std::string_view data, std::string_view source,
                                     const Secret* passphrase) {
  ::ERR_clear_error();
  EvpPkeyPtr key;
  if (looks_like_pem(data)) {
    const bool encrypted = is_encrypted_key_pem(data);
    if (encrypted && (passphrase == nullptr || passphrase->empty())) {
      return fail(
          Code::PermissionDenied,
          "'" + std::string(source) + "': the key is encrypted and no passphrase was given");
    }
    auto bio = mem_bio(data);
    key.reset(::PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_cb,
                                        const_cast<Secret*>(passphrase)));
    if (!key && encrypted) {
      ::ERR_clear_error();
      return fail(Code::PermissionDenied, "'" + std::string(source) + "': wrong passphrase");
    }
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    key.reset(::d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(data.size())));
  }
  if (!key) {
    return fail(bad_input(source, "not a valid PEM or DER private key"));
  }
  return key;
}

Result<EvpPkeyPtr> load_private_key(const std::filesystem::path& path, const Secret* passphrase) {
  CK_ASSIGN(const auto data, read_file(path, kPemInput));
  return parse_private_key(data, path.string(), passphrase);
}

Result<std::string> cert_to_pem(const X509& cert) {
  BioPtr bio(::BIO_new(::BIO_s_mem()));
  if (!bio || ::PEM_write_bio_X509(bio.get(), &cert) != 1) {
    return fail(ossl_error("encode certificate as PEM"));
  }
  return bio_contents(*bio);
}

Result<std::string> cert_to_der(const X509& cert) {
  unsigned char* buf = nullptr;
  const int len = ::i2d_X509(&cert, &buf);
  if (len <= 0) {
    return fail(ossl_error("encode certificate as DER"));
  }
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  ::OPENSSL_free(buf);
  return out;
}

Result<X509Ptr> cert_from_der(std::string_view der) {
  return parse_cert(der, "stored certificate");
}

namespace {

using X509SigPtr = std::unique_ptr<X509_SIG, OsslFree<::X509_SIG_free>>;
using X509AlgorPtr = std::unique_ptr<X509_ALGOR, OsslFree<::X509_ALGOR_free>>;
using P8InfoPtr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, OsslFree<::PKCS8_PRIV_KEY_INFO_free>>;
using Pbe2ParamPtr = std::unique_ptr<PBE2PARAM, OsslFree<::PBE2PARAM_free>>;
using Pbkdf2ParamPtr = std::unique_ptr<PBKDF2PARAM, OsslFree<::PBKDF2PARAM_free>>;

// The SEQUENCE parameter of an AlgorithmIdentifier whose OID is `nid`, as DER.
const ASN1_STRING* sequence_param(const X509_ALGOR* alg, int nid) {
  const ASN1_OBJECT* obj = nullptr;
  int type = 0;
  const void* value = nullptr;
  ::X509_ALGOR_get0(&obj, &type, &value, alg);
  if (::OBJ_obj2nid(obj) != nid || type != V_ASN1_SEQUENCE || value == nullptr)
    return nullptr;
  return static_cast<const ASN1_STRING*>(value);
}

// Encrypted PKCS#8 with our own PBKDF2 parameters: the PEM_write_* helpers
// always use OpenSSL's default iteration count.
Result<std::string> encrypted_pkcs8(const EVP_PKEY& key, const std::string& pass) {
  X509AlgorPtr pbe(::PKCS5_pbe2_set_iv(::EVP_aes_256_cbc(), static_cast<int>(kKeyPbkdf2Iterations),
                                       nullptr, 16, nullptr, NID_hmacWithSHA256));
  P8InfoPtr p8(::EVP_PKEY2PKCS8(&key));
  if (!pbe || !p8)
    return fail(ossl_error("encode private key"));
  X509SigPtr sig(::PKCS8_set0_pbe(pass.data(), static_cast<int>(pass.size()), p8.get(), pbe.get()));
  if (!sig)
    return fail(ossl_error("encrypt private key"));
  (void)pbe.release();  // owned by `sig` now
  BioPtr bio(::BIO_new(::BIO_s_mem()));
  if (!bio || ::PEM_write_bio_PKCS8(bio.get(), sig.get()) != 1)
    return fail(ossl_error("encode private key"));
  return bio_contents(*bio);
}

}  // namespace

Result<std::string> private_key_to_pem(const EVP_PKEY& key, const Secret* passphrase) {
  if (passphrase != nullptr && !passphrase->empty())
    return encrypted_pkcs8(key, passphrase->reveal());
  BioPtr bio(::BIO_new(::BIO_s_mem()));
  if (!bio || ::PEM_write_bio_PKCS8PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr,
                                              nullptr) != 1) {
    return fail(ossl_error("encode private key"));
  }
  return bio_contents(*bio);
}

std::optional<std::uint64_t> key_pbkdf2_iterations(std::string_view pem) {
  if (!is_encrypted_key_pem(pem))
    return std::nullopt;
  ::ERR_clear_error();
  auto bio = mem_bio(pem);
  X509SigPtr sig(::PEM_read_bio_PKCS8(bio.get(), nullptr, nullptr, nullptr));
  ::ERR_clear_error();
  if (!sig)
    return 0;  // traditional PEM encryption: one MD5 round
  const X509_ALGOR* alg = nullptr;
  ::X509_SIG_get0(sig.get(), &alg, nullptr);
  const ASN1_STRING* pbes2 = sequence_param(alg, NID_pbes2);
  if (pbes2 == nullptr)
    return 0;  // PBES1
  const unsigned char* p = ::ASN1_STRING_get0_data(pbes2);
  Pbe2ParamPtr params(::d2i_PBE2PARAM(nullptr, &p, ::ASN1_STRING_length(pbes2)));
  const ASN1_STRING* kdf = params ? sequence_param(params->keyfunc, NID_id_pbkdf2) : nullptr;
  if (kdf == nullptr)
    return 0;
  p = ::ASN1_STRING_get0_data(kdf);
  Pbkdf2ParamPtr pbkdf2(::d2i_PBKDF2PARAM(nullptr, &p, ::ASN1_STRING_length(kdf)));
  std::uint64_t iterations = 0;
  if (!pbkdf2 || ::ASN1_INTEGER_get_uint64(&iterations, pbkdf2->iter) != 1)
    iterations = 0;
  ::ERR_clear_error();
  return iterations;
}

bool key_needs_reencryption(std::string_view pem) {
  const auto iterations = key_pbkdf2_iterations(pem);
  return iterations && *iterations < kKeyPbkdf2Iterations;
}

bool is_encrypted_key_pem(std::string_view pem) {
  return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
         pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

std::string der_to_pem(std::string_view der, std::string_view label) {
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                  reinterpret_cast<const unsigned char*>(der.data()),
                                  static_cast<int>(der.size()));
  b64.resize(static_cast<std::size_t>(n));
  out.reserve(out.size() + b64.size() + b64.size() / 64 + 64);
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out += '\n';
  }
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

Result<std::vector<X509Ptr>> parse_cert_chain(std::string_view text, std::string_view source) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::vector<X509Ptr> out;
  std::size_t pos = 0;
  while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
    const auto end = text.find(kEnd, pos);
    if (end == std::string_view::npos)
      return fail(Code::InvalidArgument, std::string(source) + ": truncated PEM certificate");
    CK_ASSIGN(auto cert, parse_cert(text.substr(pos, end + kEnd.size() - pos), source));
    out.push_back(std::move(cert));
    pos = end + kEnd.size();
  }
  return out;
}

}  // namespace ck
