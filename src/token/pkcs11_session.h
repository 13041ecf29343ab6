#pragma once
// Internal to token/: a session with one token through the PKCS#11 API
// itself, for what libp11 0.4.12 cannot do (an EC key pair generated in the
// token). The module stays initialised and the session open for the life of
// this object: PKCS#11 login state belongs to the application, so the engine
// (token.cpp) finds the token logged in and does not log in a second time.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/keygen.h"
#include "core/pem.h"

namespace ck::token {

class Pkcs11Session {
 public:
  /// Loads `module`, finds the token labelled `token_label` and opens a
  /// read-write session on it. No login yet.
  [[nodiscard]] static Result<std::unique_ptr<Pkcs11Session>> open(
      const std::filesystem::path& module, const std::string& token_label);
  ~Pkcs11Session();
  Pkcs11Session(const Pkcs11Session&) = delete;
  Pkcs11Session& operator=(const Pkcs11Session&) = delete;

  /// One C_Login as the user. PermissionDenied for a wrong PIN, with the
  /// token named; a token already logged in is fine.
  [[nodiscard]] Status login(const Secret& pin);
  /// What the token holds under a private key's label (and CKA_ID, when
  /// `id` is not empty).
  enum class KeyState { Absent, Usable, AlwaysAuthenticate };
  [[nodiscard]] Result<KeyState> private_key_state(const std::string& label, const std::string& id);
  /// Generates a key pair in the token: both halves labelled `label` with
  /// CKA_ID `id`; the private half CKA_SENSITIVE, never CKA_EXTRACTABLE,
  /// CKA_SIGN and CKA_DERIVE (EC) or CKA_DECRYPT (RSA).
  [[nodiscard]] Status generate(const std::string& label, const std::string& id, KeyType type);
  /// Destroys the pair the last generate() made (a `ca init` that failed
  /// after it must not leave a key in the token that no CA uses).
  void discard_generated();

 private:
  struct Impl;
  explicit Pkcs11Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ck::token
