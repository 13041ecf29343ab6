#pragma once
// The CA key in a PKCS#11 token (issue 21): certificates and CRLs are signed
// through OpenSSL 3 with the key never leaving the token. Debian 12 has
// libp11's engine, not a pkcs11 provider. The engine is loaded here, from
// code, with an explicit module path and never through openssl.cnf:
// configured there it breaks unrelated software EC operations in the same
// process (libp11#456), and the ACME client and the probe share this process.
// It is never made a default engine, so only keys it loaded use it.
//
// A Token logs in at most once per process, itself, through PKCS#11: a wrong
// PIN is tried exactly once and remembered, so certkeeper never locks a real
// token by retrying. The engine is never given the PIN and its prompts always
// fail: it uses the login the Token holds (login state is the application's)
// and cannot make an attempt of its own.

#include <filesystem>
#include <memory>
#include <optional>

#include "core/error.h"
#include "core/keygen.h"
#include "core/ossl.h"
#include "core/pem.h"
#include "core/random.h"
#include "token/key_uri.h"

namespace ck::token {

class Pkcs11Session;

struct TokenConfig {
  /// The PKCS#11 module ([pkcs11] module or CERTKEEPER_PKCS11_MODULE), such
  /// as /usr/lib/softhsm/libsofthsm2.so. Empty: none configured.
  std::filesystem::path module;
  /// The user PIN (CERTKEEPER_PKCS11_PIN or [pkcs11] pin_file).
  std::optional<Secret> pin;
};

class Token {
 public:
  explicit Token(TokenConfig config);
  ~Token();
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  /// The private key `uri` names: an EVP_PKEY whose private operations run in
  /// the token (from one thread at a time), with its public half.
  [[nodiscard]] Result<EvpPkeyPtr> private_key(const KeyUri& uri);

  /// Generates a key pair of `type` in the token, labelled `uri.object` (with
  /// a random 16-byte CKA_ID, written into `uri`, when it names none): the
  /// private half sensitive and never extractable. Refuses when the token
  /// holds a private key of that label already. Returns private_key(uri).
  [[nodiscard]] Result<EvpPkeyPtr> generate(KeyUri& uri, KeyType type, RandomSource& random);
  /// Destroys the pair generate() made, when what it was made for failed.
  void discard_generated();

 private:
  struct Engine;
  [[nodiscard]] Status check_configured(const KeyUri& uri) const;
  [[nodiscard]] Status log_in(const KeyUri& uri);
  [[nodiscard]] Result<Engine*> engine();
  TokenConfig config_;
  std::unique_ptr<Pkcs11Session> session_;  // only when a key was generated
  std::unique_ptr<Engine> engine_;
  std::optional<Error> login_failed_;  // a failed login is never retried
};

}  // namespace ck::token
