// The one file that uses OpenSSL's ENGINE API (deprecated in 3.0, and the
// only way to libp11 on Debian 12): the rest of certkeeper builds with
// OPENSSL_NO_DEPRECATED (CMakeLists.txt lifts it for this file alone).

#include "token/token.h"

#include <array>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/ui.h>

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

// Every prompt the engine would show fails at once: no terminal read, no
// second PIN attempt typed by whoever is at the keyboard.
int refuse_prompt(UI* /*ui*/, UI_STRING* /*uis*/) {
  return -1;
}

}  // namespace

struct Token::Engine {
  ENGINE* engine = nullptr;
  UI_METHOD* no_prompts = nullptr;
  bool initialised = false;
  ~Engine() {
    if (initialised)
      ::ENGINE_finish(engine);
    if (engine != nullptr)
      ::ENGINE_free(engine);
    if (no_prompts != nullptr)
      ::UI_destroy_method(no_prompts);
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
  e->no_prompts = ::UI_create_method("certkeeper: no prompts");
  if (e->no_prompts == nullptr || ::UI_method_set_reader(e->no_prompts, refuse_prompt) != 0) {
    return fail(Code::Internal, "configuring the pkcs11 engine: " + engine_reason());
  }
  // QUIET: libp11 would print its own lines to stderr; errors are reported
  // here, one line each. No PIN: the Token's own login is the only one.
  if (::ENGINE_ctrl_cmd_string(e->engine, "QUIET", nullptr, 0) != 1 ||
      ::ENGINE_ctrl_cmd_string(e->engine, "MODULE_PATH", config_.module.c_str(), 0) != 1 ||
      ::ENGINE_ctrl_cmd(e->engine, "SET_USER_INTERFACE", 0, e->no_prompts, nullptr, 0) != 1) {
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
// a missing token from a wrong PIN. The engine, never given the PIN, then
// sees the private objects through this login (login state is the
// application's) and cannot make an attempt of its own.
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
  CK_ASSIGN(const auto state, session_->private_key_state(uri.object, uri.id));
  if (state == Pkcs11Session::KeyState::Absent) {
    return fail(Code::NotFound, "PKCS#11 token '" + uri.token + "' holds no private key '" +
                                    uri.object + "'" + (uri.id.empty() ? "" : " with that id"));
  }
  if (state == Pkcs11Session::KeyState::AlwaysAuthenticate) {
    return fail(Code::InvalidArgument,
                "key '" + uri.object + "' in PKCS#11 token '" + uri.token +
                    "' asks for the PIN before every signature (CKA_ALWAYS_AUTHENTICATE): "
                    "certkeeper logs in once per command; use a key without it");
  }
  CK_ASSIGN(Engine * e, engine());
  ::ERR_clear_error();
  const std::string text = uri.private_key_text();
  EvpPkeyPtr key(::ENGINE_load_private_key(e->engine, text.c_str(), nullptr, nullptr));
  if (!key) {
    return fail(Code::Unavailable, "loading key '" + uri.object + "' from PKCS#11 token '" +
                                       uri.token + "': " + engine_reason());
  }
  return key;
}

Result<EvpPkeyPtr> Token::generate(KeyUri& uri, KeyType type, RandomSource& random) {
  CK_TRY(log_in(uri));
  // The engine first: a pair made for an engine that then cannot start
  // would be left in the token for nothing.
  CK_TRY(engine().map([](Engine*) {}));
  CK_ASSIGN(const auto state, session_->private_key_state(uri.object, ""));
  if (state != Pkcs11Session::KeyState::Absent) {
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
  auto key = private_key(uri);
  if (!key)
    session_->discard_generated();
  return key;
}

void Token::discard_generated() {
  if (session_)
    session_->discard_generated();
}

}  // namespace ck::token
