#pragma once
// PKCS#12 bundles for users and the one-time passwords that open them.

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/ossl.h"
#include "core/pem.h"
#include "core/random.h"

namespace ck::ca {

enum class P12Mode {
  Modern,  // PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC, SHA-256 MAC with a 16-byte salt
  Compat,  // PBE-SHA1-3DES, SHA-1 MAC: for old keychains and appliances; no legacy provider needed
};

[[nodiscard]] Result<P12Mode> parse_p12_mode(std::string_view name);
[[nodiscard]] std::string_view p12_mode_name(P12Mode mode);

/// PBKDF2 iterations for the key bag, certificate bags and MAC: OpenSSL's
/// default and the floor the issue sets. Key stretching protects guessable
/// passwords; ours carry 139 random bits, beyond any brute force with or
/// without stretching, so more iterations would only slow every issuance.
inline constexpr int kPkcs12Iterations = 2048;

/// A password of 24 characters from a 57-symbol alphabet without look-alikes
/// (0/O, 1/l/I): 139 bits from the CSPRNG, easy to read out over the phone.
[[nodiscard]] Result<Secret> generate_password(RandomSource& random);

/// Builds the bundle: the user's key and certificate, plus the CA certificate.
[[nodiscard]] Result<std::string> make_pkcs12(EVP_PKEY& key, X509& cert, X509& ca_cert,
                                              const Secret& password, P12Mode mode,
                                              const std::string& friendly_name);

/// How much of a bundle is re-read before it is handed out. Full: opened with
/// its password (MAC, key and certificate bags decrypted), holding `cert` and
/// the key that matches it. Mac: its MAC verified with its password, which
/// proves everything in it is what was built, under that password (one key
/// derivation instead of three): `user import` opens the first bundle of
/// each worker in every batch fully and checks the MAC of the others, made
/// by the same code with the same kind of password.
enum class P12Check { Full, Mac };

/// A bundle is never handed out unchecked.
[[nodiscard]] Status check_pkcs12(std::string_view der, const Secret& password, const X509& cert,
                                  P12Check depth = P12Check::Full);

}  // namespace ck::ca
