#include "ca/canary_seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/keygen.h"

namespace ck::ca {

namespace {

constexpr std::string_view kEnvelopeMagic = "CKENV1";
constexpr std::string_view kEnvelopeLabel = "certkeeper crl canary envelope v1";
constexpr std::size_t kWrappedSecret = 32;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Error damaged(std::string_view context, std::string why) {
  return Error{Code::InvalidArgument,
               "cannot open sealed data (" + std::string(context) + "): " + std::move(why),
               {}};
}

// The ECDH shared secret of `own` (private) and `peer` (public).
Result<std::string> ecdh(EVP_PKEY& own, EVP_PKEY& peer) {
  EvpPkeyCtxPtr ctx(::EVP_PKEY_CTX_new(&own, nullptr));
  std::size_t len = 0;
  if (!ctx || ::EVP_PKEY_derive_init(ctx.get()) != 1 ||
      ::EVP_PKEY_derive_set_peer(ctx.get(), &peer) != 1 ||
      ::EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    return fail(ossl_error("ECDH with the CA key"));
  }
  std::string secret(len, '\0');
  if (::EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(secret.data()), &len) != 1)
    return fail(ossl_error("ECDH with the CA key"));
  secret.resize(len);
  return secret;
}

Status set_oaep(EVP_PKEY_CTX* ctx) {
  if (::EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
      ::EVP_PKEY_CTX_set_rsa_oaep_md(ctx, ::EVP_sha256()) != 1 ||
      ::EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, ::EVP_sha256()) != 1) {
    return fail(ossl_error("RSA-OAEP parameters"));
  }
  return {};
}

// Wipes a secret string when it goes out of scope.
struct Wipe {
  std::string& s;
  ~Wipe() { ::OPENSSL_cleanse(s.data(), s.size()); }
};

}  // namespace

Result<CanarySeal> CanarySeal::from_stored_key(const EVP_PKEY& ca_key) {
  unsigned char* der = nullptr;
  const int len = ::i2d_PrivateKey(&ca_key, &der);
  if (len <= 0)
    return fail(ossl_error("reading the CA key to seal canary keys"));
  std::string secret(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  ::OPENSSL_clear_free(der, static_cast<std::size_t>(len));
  const Wipe wipe{secret};
  CanarySeal seal;
  CK_ASSIGN(seal.derived_, SealKey::from_secret(secret, "certkeeper crl canary key v1"));
  return seal;
}

Result<CanarySeal> CanarySeal::to_token_key(EVP_PKEY& token_key, const X509& ca_cert) {
  CanarySeal seal;
  seal.token_key_ = &token_key;
  // Decoded afresh: a certificate made in this process may cache the
  // engine's key object as its public key, and ECDH takes a plain one.
  unsigned char* der = nullptr;
  const int len = ::i2d_X509_PUBKEY(::X509_get_X509_PUBKEY(&ca_cert), &der);
  const unsigned char* p = der;
  seal.public_key_.reset(len > 0 ? ::d2i_PUBKEY(nullptr, &p, len) : nullptr);
  ::OPENSSL_free(der);
  if (!seal.public_key_)
    return fail(ossl_error("the CA certificate's public key"));
  return seal;
}

Result<std::string> CanarySeal::seal(std::string_view plaintext, std::string_view context,
                                     RandomSource& random) const {
  if (derived_)
    return derived_->seal(plaintext, context, random);
  if (!public_key_)
    return fail(Code::Internal, "no CA public key to seal canary keys to");
  std::string encapsulated;
  std::string secret;
  const Wipe wipe{secret};
  if (::EVP_PKEY_get_base_id(public_key_.get()) == EVP_PKEY_EC) {
    // A fresh key on the CA key's curve: its public half travels in the blob.
    EvpPkeyCtxPtr gen(::EVP_PKEY_CTX_new(public_key_.get(), nullptr));
    EVP_PKEY* raw = nullptr;
    if (!gen || ::EVP_PKEY_keygen_init(gen.get()) != 1 || ::EVP_PKEY_keygen(gen.get(), &raw) != 1)
      return fail(ossl_error("ephemeral key for a canary"));
    EvpPkeyPtr ephemeral(raw);
    CK_ASSIGN(secret, ecdh(*ephemeral, *public_key_));
    unsigned char* der = nullptr;
    const int len = ::i2d_PUBKEY(ephemeral.get(), &der);
    if (len <= 0)
      return fail(ossl_error("encoding the ephemeral key"));
    encapsulated.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    ::OPENSSL_free(der);
  } else if (::EVP_PKEY_get_base_id(public_key_.get()) == EVP_PKEY_RSA) {
    secret.assign(kWrappedSecret, '\0');
    CK_TRY(random.fill(std::span(reinterpret_cast<std::uint8_t*>(secret.data()), secret.size())));
    EvpPkeyCtxPtr ctx(::EVP_PKEY_CTX_new(public_key_.get(), nullptr));
    if (!ctx || ::EVP_PKEY_encrypt_init(ctx.get()) != 1)
      return fail(ossl_error("wrapping a canary key"));
    CK_TRY(set_oaep(ctx.get()));
    std::size_t len = 0;
    if (::EVP_PKEY_encrypt(ctx.get(), nullptr, &len, bytes(secret), secret.size()) != 1)
      return fail(ossl_error("wrapping a canary key"));
    encapsulated.assign(len, '\0');
    if (::EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(encapsulated.data()), &len,
                           bytes(secret), secret.size()) != 1)
      return fail(ossl_error("wrapping a canary key"));
    encapsulated.resize(len);
  } else {
    return fail(Code::InvalidArgument,
                "CRL canaries need an EC or RSA CA key in a token (this one is neither)");
  }
  CK_ASSIGN(const SealKey key, SealKey::from_secret(secret, kEnvelopeLabel));
  CK_ASSIGN(const std::string inner, key.seal(plaintext, context, random));
  std::string out(kEnvelopeMagic);
  out += static_cast<char>(encapsulated.size() >> 8);
  out += static_cast<char>(encapsulated.size() & 0xff);
  out += encapsulated;
  out += inner;
  return out;
}

Result<std::string> CanarySeal::open(std::string_view blob, std::string_view context) const {
  if (derived_)
    return derived_->open(blob, context);
  if (!blob.starts_with(kEnvelopeMagic) || blob.size() < kEnvelopeMagic.size() + 2)
    return fail(damaged(context, "not sealed to the CA key in the token"));
  std::string_view rest = blob.substr(kEnvelopeMagic.size());
  const std::size_t len = (static_cast<std::size_t>(static_cast<unsigned char>(rest[0])) << 8) |
                          static_cast<unsigned char>(rest[1]);
  rest.remove_prefix(2);
  if (rest.size() < len)
    return fail(damaged(context, "cut short"));
  const std::string_view encapsulated = rest.substr(0, len);
  const std::string_view inner = rest.substr(len);
  std::string secret;
  const Wipe wipe{secret};
  if (::EVP_PKEY_get_base_id(public_key_.get()) == EVP_PKEY_EC) {
    const unsigned char* p = bytes(encapsulated);
    EvpPkeyPtr ephemeral(::d2i_PUBKEY(nullptr, &p, static_cast<long>(encapsulated.size())));
    if (!ephemeral)
      return fail(damaged(context, "no ephemeral key"));
    CK_ASSIGN(secret, ecdh(*token_key_, *ephemeral));
  } else {
    EvpPkeyCtxPtr ctx(::EVP_PKEY_CTX_new(token_key_, nullptr));
    if (!ctx || ::EVP_PKEY_decrypt_init(ctx.get()) != 1)
      return fail(ossl_error("unwrapping a canary key in the token"));
    CK_TRY(set_oaep(ctx.get()));
    std::size_t out_len = 0;
    if (::EVP_PKEY_decrypt(ctx.get(), nullptr, &out_len, bytes(encapsulated),
                           encapsulated.size()) != 1)
      return fail(ossl_error("unwrapping a canary key in the token"));
    secret.assign(out_len, '\0');
    if (::EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(secret.data()), &out_len,
                           bytes(encapsulated), encapsulated.size()) != 1)
      return fail(ossl_error("unwrapping a canary key in the token"));
    secret.resize(out_len);
  }
  CK_ASSIGN(const SealKey key, SealKey::from_secret(secret, kEnvelopeLabel));
  return key.open(inner, context);
}

}  // namespace ck::ca
