#include "core/keygen.h"

#include <cstring>

#include <openssl/core_names.h>
#include <openssl/err.h>

namespace ck {

Result<KeyType> parse_key_type(std::string_view name) {
  if (name == "ec-p256")
    return KeyType::EcP256;
  if (name == "ec-p384")
    return KeyType::EcP384;
  if (name == "rsa-2048")
    return KeyType::Rsa2048;
  if (name == "rsa-3072")
    return KeyType::Rsa3072;
  if (name == "rsa-4096")
    return KeyType::Rsa4096;
  if (name == "ed25519")
    return KeyType::Ed25519;
  return fail(Code::InvalidArgument,
              "unknown key type '" + std::string(name) +
                  "' (use ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519)");
}

std::string_view key_type_name(KeyType type) {
  switch (type) {
    case KeyType::EcP256:
      return "ec-p256";
    case KeyType::EcP384:
      return "ec-p384";
    case KeyType::Rsa2048:
      return "rsa-2048";
    case KeyType::Rsa3072:
      return "rsa-3072";
    case KeyType::Rsa4096:
      return "rsa-4096";
    case KeyType::Ed25519:
      return "ed25519";
  }
  return "ec-p256";
}

bool is_rsa(KeyType type) {
  return type == KeyType::Rsa2048 || type == KeyType::Rsa3072 || type == KeyType::Rsa4096;
}

namespace {

// The curve's domain parameters, made once. EVP_PKEY_Q_keygen builds the
// curve's group from its name for every key (BN conversions, a Montgomery
// context): a tenth of bulk issuance's time, where copying it from a
// template costs little.
EvpPkeyPtr make_ec_params(const char* curve) {
  EvpPkeyCtxPtr ctx(::EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* params = nullptr;
  if (!ctx || ::EVP_PKEY_paramgen_init(ctx.get()) != 1 ||
      ::EVP_PKEY_CTX_set_group_name(ctx.get(), curve) != 1 ||
      ::EVP_PKEY_paramgen(ctx.get(), &params) != 1) {
    return nullptr;
  }
  return EvpPkeyPtr(params);
}

EVP_PKEY* ec_keygen(KeyType type) {
  static const EvpPkeyPtr p256 = make_ec_params("P-256");
  static const EvpPkeyPtr p384 = make_ec_params("P-384");
  EVP_PKEY* params = type == KeyType::EcP256 ? p256.get() : p384.get();
  if (params == nullptr) {
    return nullptr;
  }
  EvpPkeyCtxPtr ctx(::EVP_PKEY_CTX_new_from_pkey(nullptr, params, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || ::EVP_PKEY_keygen_init(ctx.get()) != 1 || ::EVP_PKEY_keygen(ctx.get(), &key) != 1) {
    return nullptr;
  }
  return key;
}

}  // namespace

Result<EvpPkeyPtr> generate_key(KeyType type) {
  ::ERR_clear_error();
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::EcP256:
    case KeyType::EcP384:
      raw = ec_keygen(type);
      break;
    case KeyType::Rsa2048:
      raw = ::EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case KeyType::Rsa3072:
      raw = ::EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
      break;
    case KeyType::Rsa4096:
      raw = ::EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096});
      break;
    case KeyType::Ed25519:
      raw = ::EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  EvpPkeyPtr key(raw);
  if (!key) {
    return fail(ossl_error("generate " + std::string(key_type_name(type)) + " key"));
  }
  return key;
}

Result<KeyType> key_type_of(const EVP_PKEY& key) {
  if (::EVP_PKEY_is_a(&key, "ED25519")) {
    return KeyType::Ed25519;
  }
  if (::EVP_PKEY_is_a(&key, "RSA")) {
    switch (::EVP_PKEY_get_bits(&key)) {
      case 2048:
        return KeyType::Rsa2048;
      case 3072:
        return KeyType::Rsa3072;
      case 4096:
        return KeyType::Rsa4096;
      default:
        break;
    }
    return fail(Code::InvalidArgument,
                "unsupported RSA key size " + std::to_string(::EVP_PKEY_get_bits(&key)));
  }
  if (::EVP_PKEY_is_a(&key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (::EVP_PKEY_get_utf8_string_param(&key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &len) == 1) {
      if (std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0) {
        return KeyType::EcP256;
      }
      if (std::strcmp(group, "secp384r1") == 0 || std::strcmp(group, "P-384") == 0) {
        return KeyType::EcP384;
      }
    }
    ::ERR_clear_error();
    return fail(Code::InvalidArgument, "unsupported EC curve '" + std::string(group) + "'");
  }
  return fail(Code::InvalidArgument, "unsupported key algorithm");
}

const EVP_MD* signing_digest(const EVP_PKEY& key) {
  if (::EVP_PKEY_is_a(&key, "ED25519")) {
    return nullptr;
  }
  if (::EVP_PKEY_is_a(&key, "EC") && ::EVP_PKEY_get_bits(&key) > 256) {
    return ::EVP_sha384();
  }
  return ::EVP_sha256();
}

}  // namespace ck
