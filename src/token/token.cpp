// The one file that uses OpenSSL's ENGINE API (deprecated in 3.0, and the
// only way to libp11 on Debian 12): the rest of certkeeper builds with
// OPENSSL_NO_DEPRECATED (CMakeLists.txt lifts it for this file alone).

#include "token/token.h"

#include <array>

#include <openssl/engine.h>
#include <openssl/err.h>

#include "core/ossl.h"
#include "token/pkcs11_session.h"

namespace ck::token {

namespace {

// What OpenSSL's error queue says about a failed engine call, most recent
// reason only (libp11 stacks several lines for one cause).
std::string engine_reason() {
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = ::ERR_get_error()) != 0)
    last = code;
  if (last == 0)
    return "no reason given";
  const char* reason = ::ERR_reason_error_string(last);
  return reason != nullptr ? reason : "error " + std::to_string(last);
}

}  // namespace

struct Token::Engine {
  ENGINE* engine = nullptr;
  bool initialised = false;
  ~Engine() {
    if (initialised)
      ::ENGINE_finish(engine);
    if (engine != nullptr)
      ::ENGINE_free(engine);
  }
};

Token::Token(TokenConfig config) : config_(std::move(config)) {}

// The engine goes first: it may still use the module the session keeps open.
Token::~Token() {
  engine_.reset();
  session_.reset();
}

Status Token::check_configured(const KeyUri& uri) const {
  if (config_.module.empty()) {
    return fail(Code::FailedPrecondition,
                "the CA key is in PKCS#11 token '" + uri.token +
                    "': set [pkcs11] module (or CERTKEEPER_PKCS11_MODULE) to its module, e.g. "
                    "/usr/lib/softhsm/libsofthsm2.so");
  }
  if (!config_.pin || config_.pin->empty()) {
    return fail(Code::PermissionDenied, "PKCS#11 token '" + uri.token +
                                            "' needs its PIN: set CERTKEEPER_PKCS11_PIN or "
                                            "[pkcs11] pin_file (a 0600 file)");
  }
  if (login_failed_)
    return fail(*login_failed_);
  return {};
}

Result<Token::Engine*> Token::engine() {
  if (engine_)
    return engine_.get();
  auto e = std::make_unique<Engine>();
  ::ERR_clear_error();
  // By id: OpenSSL loads engines-3/pkcs11.so itself; nothing is read from
  // openssl.cnf and the engine is not made a default for anything.
  e->engine = ::ENGINE_by_id("pkcs11");
  if (e->engine == nullptr) {
    ::ERR_clear_error();
    return fail(Code::NotFound,
                "OpenSSL's pkcs11 engine is not installed (apt-get install "
                "libengine-pkcs11-openssl)");
  }
  // QUIET: libp11 would print its own lines to stderr; errors are reported
  // here, one line each.
  if (::ENGINE_ctrl_cmd_string(e->engine, "QUIET", nullptr, 0) != 1 ||
      ::ENGINE_ctrl_cmd_string(e->engine, "MODULE_PATH", config_.module.c_str(), 0) != 1 ||
      ::ENGINE_ctrl_cmd_string(e->engine, "PIN", config_.pin->reveal().c_str(), 0) != 1) {
    return fail(Code::Internal, "configuring the pkcs11 engine: " + engine_reason());
  }
  if (::ENGINE_init(e->engine) != 1) {
    return fail(Code::Unavailable, "PKCS#11 module '" + config_.module.string() +
                                       "' does not start: " + engine_reason());
  }
  e->initialised = true;
  engine_ = std::move(e);
  return engine_.get();
}

// Found and logged in through PKCS#11 itself: the engine's errors do not tell
// a missing token from a wrong PIN. The engine then finds the token logged in
// (login state is the application's) and does not try again.
Status Token::log_in(const KeyUri& uri) {
  CK_TRY(check_configured(uri));
  if (session_)
    return {};
  CK_ASSIGN(auto session, Pkcs11Session::open(config_.module, uri.token));
  if (auto st = session->login(*config_.pin); !st) {
    login_failed_ = st.error();
    return st;
  }
  session_ = std::move(session);
  return {};
}

Result<EvpPkeyPtr> Token::private_key(const KeyUri& uri) {
  CK_TRY(log_in(uri));
  CK_ASSIGN(Engine * e, engine());
  ::ERR_clear_error();
  const std::string text = uri.private_key_text();
  EvpPkeyPtr key(::ENGINE_load_private_key(e->engine, text.c_str(), nullptr, nullptr));
  if (!key) {
    const std::string why = engine_reason();
    CK_ASSIGN(const bool present, session_->has_private_key(uri.object));
    if (!present) {
      return fail(Code::NotFound,
                  "PKCS#11 token '" + uri.token + "' holds no private key '" + uri.object + "'");
    }
    return fail(Code::Unavailable,
                "loading key '" + uri.object + "' from PKCS#11 token '" + uri.token + "': " + why);
  }
  return key;
}

Result<EvpPkeyPtr> Token::generate(KeyUri& uri, KeyType type, RandomSource& random) {
  CK_TRY(log_in(uri));
  CK_ASSIGN(const bool exists, session_->has_private_key(uri.object));
  if (exists) {
    return fail(Code::AlreadyExists, "PKCS#11 token '" + uri.token + "' holds a key '" +
                                         uri.object +
                                         "' already: adopt it with `certkeeper ca import "
                                         "--key-uri`, or name another object");
  }
  if (uri.id.empty()) {
    std::array<std::uint8_t, 16> id{};
    CK_TRY(random.fill(id));
    uri.id.assign(reinterpret_cast<const char*>(id.data()), id.size());
  }
  CK_TRY(session_->generate(uri.object, uri.id, type));
  return private_key(uri);
}

}  // namespace ck::token
