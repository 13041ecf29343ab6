#include "token/pkcs11_session.h"

#include <dlfcn.h>

#include <array>
#include <vector>

// PKCS#11 has a struct CK_VERSION; certkeeper's version macro of that name
// (CMakeLists.txt) is not used here.
#undef CK_VERSION
#include <p11-kit/pkcs11.h>

#include <openssl/crypto.h>

namespace ck::token {

namespace {

std::string rv_text(CK_RV rv) {
  switch (rv) {
    case CKR_PIN_INCORRECT:
      return "CKR_PIN_INCORRECT";
    case CKR_PIN_LOCKED:
      return "CKR_PIN_LOCKED";
    case CKR_PIN_EXPIRED:
      return "CKR_PIN_EXPIRED";
    case CKR_TOKEN_NOT_PRESENT:
      return "CKR_TOKEN_NOT_PRESENT";
    case CKR_TOKEN_WRITE_PROTECTED:
      return "CKR_TOKEN_WRITE_PROTECTED";
    case CKR_MECHANISM_INVALID:
      return "CKR_MECHANISM_INVALID";
    case CKR_TEMPLATE_INCONSISTENT:
      return "CKR_TEMPLATE_INCONSISTENT";
    case CKR_ATTRIBUTE_VALUE_INVALID:
      return "CKR_ATTRIBUTE_VALUE_INVALID";
    case CKR_USER_NOT_LOGGED_IN:
      return "CKR_USER_NOT_LOGGED_IN";
    default: {
      std::array<char, 24> buf{};
      std::snprintf(buf.data(), buf.size(), "CKR 0x%lx", static_cast<unsigned long>(rv));
      return buf.data();
    }
  }
}

// CK_TOKEN_INFO.label: 32 bytes, blank-padded, not terminated.
std::string label_of(const CK_TOKEN_INFO& info) {
  std::string label(reinterpret_cast<const char*>(info.label), sizeof info.label);
  while (!label.empty() && label.back() == ' ')
    label.pop_back();
  return label;
}

// DER of the named curves' OIDs (CKA_EC_PARAMS).
constexpr std::array<unsigned char, 10> kP256 = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                                 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::array<unsigned char, 7> kP384 = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

}  // namespace

struct Pkcs11Session::Impl {
  void* library = nullptr;
  CK_FUNCTION_LIST_PTR fn = nullptr;
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  std::string token;
  std::string module;
  bool initialised = false;  // by this session (not already by the engine)
  CK_OBJECT_HANDLE generated_public = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE generated_private = CK_INVALID_HANDLE;

  Error error(const std::string& what, CK_RV rv) const {
    return Error{Code::Unavailable,
                 "PKCS#11 token '" + token + "': " + what + " failed (" + rv_text(rv) + ")",
                 {}};
  }
};

Pkcs11Session::Pkcs11Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Token destroys the engine first (which finalises the module when it loaded
// a key), so finalising here cannot close a session under the engine; a
// module the engine never used is finalised here, and its memory freed.
Pkcs11Session::~Pkcs11Session() {
  if (impl_->session != CK_INVALID_HANDLE)
    impl_->fn->C_CloseSession(impl_->session);
  if (impl_->initialised)
    impl_->fn->C_Finalize(nullptr);  // CKR_CRYPTOKI_NOT_INITIALIZED when the engine did it
}

Result<std::unique_ptr<Pkcs11Session>> Pkcs11Session::open(const std::filesystem::path& module,
                                                           const std::string& token_label) {
  auto impl = std::make_unique<Impl>();
  impl->token = token_label;
  impl->module = module.string();
  impl->library = ::dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (impl->library == nullptr) {
    return fail(Code::NotFound, "PKCS#11 module '" + module.string() + "' cannot be loaded (" +
                                    std::string(::dlerror()) + ")");
  }
  auto* get_list =
      reinterpret_cast<CK_C_GetFunctionList>(::dlsym(impl->library, "C_GetFunctionList"));
  if (get_list == nullptr || get_list(&impl->fn) != CKR_OK || impl->fn == nullptr) {
    return fail(Code::InvalidArgument,
                "'" + module.string() + "' is no PKCS#11 module (no C_GetFunctionList)");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  const CK_RV init = impl->fn->C_Initialize(&args);
  if (init != CKR_OK && init != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    return fail(Code::Unavailable, "PKCS#11 module '" + module.string() +
                                       "': C_Initialize failed (" + rv_text(init) + ")");
  }
  impl->initialised = init == CKR_OK;
  CK_ULONG count = 0;
  if (const CK_RV rv = impl->fn->C_GetSlotList(CK_TRUE, nullptr, &count); rv != CKR_OK)
    return fail(impl->error("listing slots", rv));
  std::vector<CK_SLOT_ID> slots(count);
  if (const CK_RV rv = impl->fn->C_GetSlotList(CK_TRUE, slots.data(), &count); rv != CKR_OK)
    return fail(impl->error("listing slots", rv));
  slots.resize(count);
  std::optional<CK_SLOT_ID> found;
  for (const CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (impl->fn->C_GetTokenInfo(slot, &info) != CKR_OK || label_of(info) != token_label)
      continue;
    if (found) {
      return fail(Code::InvalidArgument, "two tokens are labelled '" + token_label + "' in '" +
                                             module.string() + "': relabel one");
    }
    found = slot;
  }
  if (!found) {
    return fail(Code::NotFound,
                "no token labelled '" + token_label + "' in '" + module.string() + "'");
  }
  if (const CK_RV rv = impl->fn->C_OpenSession(*found, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                               nullptr, &impl->session);
      rv != CKR_OK) {
    impl->session = CK_INVALID_HANDLE;
    return fail(impl->error("opening a session", rv));
  }
  return std::unique_ptr<Pkcs11Session>(new Pkcs11Session(std::move(impl)));
}

Status Pkcs11Session::login(const Secret& pin) {
  const std::string& p = pin.reveal();
  std::vector<CK_UTF8CHAR> bytes(p.begin(), p.end());
  const CK_RV rv = impl_->fn->C_Login(impl_->session, CKU_USER, bytes.data(), bytes.size());
  ::OPENSSL_cleanse(bytes.data(), bytes.size());
  if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
    return {};
  if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE) {
    return fail(Code::PermissionDenied, "wrong PIN for PKCS#11 token '" + impl_->token +
                                            "' (one attempt made; nothing changed)");
  }
  return fail(impl_->error("login", rv));
}

Result<Pkcs11Session::KeyState> Pkcs11Session::private_key_state(const std::string& label,
                                                                 const std::string& id) {
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  std::vector<CK_ATTRIBUTE> tmpl = {{CKA_CLASS, &cls, sizeof cls},
                                    {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  if (!id.empty())
    tmpl.push_back({CKA_ID, const_cast<char*>(id.data()), id.size()});
  auto& fn = *impl_->fn;
  if (const CK_RV rv = fn.C_FindObjectsInit(impl_->session, tmpl.data(), tmpl.size()); rv != CKR_OK)
    return fail(impl_->error("searching keys", rv));
  CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
  CK_ULONG n = 0;
  const CK_RV rv = fn.C_FindObjects(impl_->session, &obj, 1, &n);
  fn.C_FindObjectsFinal(impl_->session);
  if (rv != CKR_OK)
    return fail(impl_->error("searching keys", rv));
  if (n == 0)
    return KeyState::Absent;
  // A key that wants the PIN again before each signature would have the
  // engine prompt (and log in) per signature: never one attempt per command.
  CK_BBOOL always = CK_FALSE;
  CK_ATTRIBUTE attr{CKA_ALWAYS_AUTHENTICATE, &always, sizeof always};
  if (fn.C_GetAttributeValue(impl_->session, obj, &attr, 1) == CKR_OK && always == CK_TRUE)
    return KeyState::AlwaysAuthenticate;
  return KeyState::Usable;
}

void Pkcs11Session::discard_generated() {
  for (auto* handle : {&impl_->generated_private, &impl_->generated_public}) {
    if (*handle != CK_INVALID_HANDLE)
      impl_->fn->C_DestroyObject(impl_->session, *handle);
    *handle = CK_INVALID_HANDLE;
  }
}

Status Pkcs11Session::generate(const std::string& label, const std::string& id, KeyType type) {
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  auto* label_ptr = const_cast<char*>(label.data());
  auto* id_ptr = const_cast<char*>(id.data());
  std::vector<CK_ATTRIBUTE> pub = {{CKA_TOKEN, &yes, sizeof yes},
                                   {CKA_VERIFY, &yes, sizeof yes},
                                   {CKA_LABEL, label_ptr, label.size()},
                                   {CKA_ID, id_ptr, id.size()}};
  std::vector<CK_ATTRIBUTE> priv = {
      {CKA_TOKEN, &yes, sizeof yes},     {CKA_PRIVATE, &yes, sizeof yes},
      {CKA_SENSITIVE, &yes, sizeof yes}, {CKA_EXTRACTABLE, &no, sizeof no},
      {CKA_SIGN, &yes, sizeof yes},      {CKA_LABEL, label_ptr, label.size()},
      {CKA_ID, id_ptr, id.size()}};
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  auto p256 = kP256;
  auto p384 = kP384;
  CK_ULONG bits = 0;
  std::array<unsigned char, 3> exponent = {0x01, 0x00, 0x01};  // 65537
  switch (type) {
    case KeyType::EcP256:
      pub.push_back({CKA_EC_PARAMS, p256.data(), p256.size()});
      break;
    case KeyType::EcP384:
      pub.push_back({CKA_EC_PARAMS, p384.data(), p384.size()});
      break;
    case KeyType::Rsa2048:
    case KeyType::Rsa3072:
    case KeyType::Rsa4096:
      bits = type == KeyType::Rsa2048 ? 2048 : type == KeyType::Rsa3072 ? 3072 : 4096;
      mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
      pub.push_back({CKA_MODULUS_BITS, &bits, sizeof bits});
      pub.push_back({CKA_PUBLIC_EXPONENT, exponent.data(), exponent.size()});
      break;
    case KeyType::Ed25519:
      return fail(Code::InvalidArgument,
                  "an ed25519 key cannot be made in a PKCS#11 token through OpenSSL's engine "
                  "(use ec-p256, ec-p384 or rsa-*)");
  }
  // CRL canary keys are sealed to the CA key (ca/canary_seal.cpp): by ECDH
  // for an EC key, by RSA-OAEP for an RSA one.
  if (mech.mechanism == CKM_EC_KEY_PAIR_GEN) {
    priv.push_back({CKA_DERIVE, &yes, sizeof yes});
  } else {
    priv.push_back({CKA_DECRYPT, &yes, sizeof yes});
    pub.push_back({CKA_ENCRYPT, &yes, sizeof yes});
  }
  CK_OBJECT_HANDLE pub_handle = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv_handle = CK_INVALID_HANDLE;
  if (const CK_RV rv =
          impl_->fn->C_GenerateKeyPair(impl_->session, &mech, pub.data(), pub.size(), priv.data(),
                                       priv.size(), &pub_handle, &priv_handle);
      rv != CKR_OK) {
    return fail(impl_->error("generating a " + std::string(key_type_name(type)) + " key", rv));
  }
  impl_->generated_public = pub_handle;
  impl_->generated_private = priv_handle;
  return {};
}

}  // namespace ck::token
