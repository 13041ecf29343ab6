#include "core/seal.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "core/ossl.h"

namespace ck {
namespace {

constexpr std::string_view kMagic = "CKSEAL1";
constexpr std::size_t kSalt = 16, kNonce = 12, kTag = 16;
constexpr std::size_t kHeader = kMagic.size() + 4 + kSalt + kNonce + kTag;
// A blob asking for more work than this is damaged or hostile.
constexpr std::uint32_t kMaxIterations = 10'000'000;

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OsslFree<::EVP_CIPHER_CTX_free>>;

Status pbkdf2(const Secret& passphrase, const std::uint8_t* salt, std::uint32_t iterations,
              std::array<std::uint8_t, 32>& key) {
  const auto& p = passphrase.reveal();
  if (::PKCS5_PBKDF2_HMAC(p.data(), static_cast<int>(p.size()), salt, kSalt,
                          static_cast<int>(iterations), ::EVP_sha256(), 32, key.data()) != 1)
    return fail(ossl_error("deriving the sealing key"));
  return {};
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

bool is_sealed(std::string_view data) {
  return data.starts_with(kMagic);
}

Result<SealKey> SealKey::derive(const Secret& passphrase, RandomSource& random,
                                std::uint32_t iterations) {
  if (passphrase.empty())
    return fail(Code::InvalidArgument, "sealing needs a passphrase");
  SealKey k;
  k.iterations_ = iterations;
  CK_TRY(random.fill(k.salt_));
  CK_TRY(pbkdf2(passphrase, k.salt_.data(), iterations, k.key_));
  return k;
}

Result<std::string> SealKey::seal(std::string_view plaintext, std::string_view context,
                                  RandomSource& random) const {
  std::array<std::uint8_t, kNonce> nonce{};
  CK_TRY(random.fill(nonce));
  CipherCtxPtr ctx(::EVP_CIPHER_CTX_new());
  int len = 0;
  std::string out(kHeader + plaintext.size(), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  std::copy(kMagic.begin(), kMagic.end(), o);
  o[7] = static_cast<unsigned char>(iterations_ >> 24);
  o[8] = static_cast<unsigned char>(iterations_ >> 16);
  o[9] = static_cast<unsigned char>(iterations_ >> 8);
  o[10] = static_cast<unsigned char>(iterations_);
  std::copy(salt_.begin(), salt_.end(), o + 11);
  std::copy(nonce.begin(), nonce.end(), o + 11 + kSalt);
  unsigned char* tag = o + 11 + kSalt + kNonce;
  unsigned char* body = o + kHeader;
  if (!ctx ||
      ::EVP_EncryptInit_ex(ctx.get(), ::EVP_aes_256_gcm(), nullptr, key_.data(), nonce.data()) !=
          1 ||
      ::EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(context),
                          static_cast<int>(context.size())) != 1 ||
      ::EVP_EncryptUpdate(ctx.get(), body, &len, bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1 ||
      ::EVP_EncryptFinal_ex(ctx.get(), body + len, &len) != 1 ||
      ::EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, tag) != 1)
    return fail(ossl_error("sealing"));
  return out;
}

namespace {

// Decrypts a blob's body with `key` (its header already checked).
Result<std::string> open_with(std::string_view blob, std::string_view context,
                              const std::array<std::uint8_t, 32>& key, const std::string& what) {
  const auto* b = bytes(blob);
  const unsigned char* nonce = b + 11 + kSalt;
  unsigned char tag[kTag];
  std::copy(b + 11 + kSalt + kNonce, b + kHeader, tag);
  std::string out(blob.size() - kHeader, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  CipherCtxPtr ctx(::EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ok =
      ctx &&
      ::EVP_DecryptInit_ex(ctx.get(), ::EVP_aes_256_gcm(), nullptr, key.data(), nonce) == 1 &&
      ::EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(context),
                          static_cast<int>(context.size())) == 1 &&
      ::EVP_DecryptUpdate(ctx.get(), o, &len, b + kHeader, static_cast<int>(out.size())) == 1 &&
      ::EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag) == 1 &&
      ::EVP_DecryptFinal_ex(ctx.get(), o + len, &len) == 1;
  if (!ok) {
    ::ERR_clear_error();
    ::OPENSSL_cleanse(out.data(), out.size());
    return fail(Code::PermissionDenied, what + ": wrong key or damaged data");
  }
  return out;
}

std::uint32_t iterations_of(std::string_view blob) {
  const auto* b = bytes(blob);
  return (std::uint32_t{b[7]} << 24) | (std::uint32_t{b[8]} << 16) | (std::uint32_t{b[9]} << 8) |
         std::uint32_t{b[10]};
}

}  // namespace

Result<SealKey> SealKey::from_secret(std::string_view secret, std::string_view label) {
  if (secret.empty())
    return fail(Code::InvalidArgument, "sealing needs key material");
  SealKey k;
  k.iterations_ = 0;  // marks a key that no passphrase opens
  EvpPkeyCtxPtr ctx(::EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  std::size_t len = k.key_.size();
  if (!ctx || ::EVP_PKEY_derive_init(ctx.get()) != 1 ||
      ::EVP_PKEY_CTX_set_hkdf_md(ctx.get(), ::EVP_sha256()) != 1 ||
      ::EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), bytes(secret), static_cast<int>(secret.size())) !=
          1 ||
      ::EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), bytes(label), static_cast<int>(label.size())) != 1 ||
      ::EVP_PKEY_derive(ctx.get(), k.key_.data(), &len) != 1 || len != k.key_.size())
    return fail(ossl_error("deriving a sealing key"));
  return k;
}

Result<std::string> SealKey::open(std::string_view blob, std::string_view context) const {
  const std::string what = "cannot open sealed data (" + std::string(context) + ")";
  if (blob.size() < kHeader || !is_sealed(blob) || iterations_of(blob) != iterations_)
    return fail(Code::InvalidArgument, what + ": not a blob of this key");
  return open_with(blob, context, key_, what);
}

Result<std::string> unseal(std::string_view blob, std::string_view context,
                           const Secret& passphrase) {
  const std::string what = "cannot open sealed data (" + std::string(context) + ")";
  if (blob.size() < kHeader || !is_sealed(blob))
    return fail(Code::InvalidArgument, what + ": not a sealed blob");
  const std::uint32_t iterations = iterations_of(blob);
  if (iterations == 0 || iterations > kMaxIterations)
    return fail(Code::InvalidArgument, what + ": damaged header");
  std::array<std::uint8_t, 32> key{};
  CK_TRY(pbkdf2(passphrase, bytes(blob) + 11, iterations, key));
  auto out = open_with(blob, context, key, what);
  ::OPENSSL_cleanse(key.data(), key.size());
  if (!out)
    return fail(Code::PermissionDenied, what + ": wrong passphrase or damaged data");
  return out;
}

}  // namespace ck
