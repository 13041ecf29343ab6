#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/ossl.h"

namespace ck {

enum class KeyType { EcP256, EcP384, Rsa2048, Rsa3072, Rsa4096, Ed25519 };

[[nodiscard]] Result<KeyType> parse_key_type(std::string_view name);
[[nodiscard]] std::string_view key_type_name(KeyType type);
[[nodiscard]] bool is_rsa(KeyType type);

/// A fresh private key of `type` from OpenSSL's CSPRNG.
[[nodiscard]] Result<EvpPkeyPtr> generate_key(KeyType type);

/// The key type of an existing key, if it is one certkeeper issues with.
[[nodiscard]] Result<KeyType> key_type_of(const EVP_PKEY& key);

/// The digest to sign with for this key (nullptr for Ed25519, which hashes itself).
[[nodiscard]] const EVP_MD* signing_digest(const EVP_PKEY& key);

}  // namespace ck
