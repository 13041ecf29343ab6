#include <openssl/err.h>

#include "ca/authority.h"
#include "ca/cert_builder.h"
#include "ca/detail/authority_state.h"
#include "ca/serial.h"
#include "core/fingerprint.h"
#include "token/token.h"

namespace ck::ca {

Result<CaInfo> describe_ca(const store::CaRecord& rec, const X509& cert) {
  CaInfo info;
  info.name = rec.name;
  info.key_type = rec.key_type;
  info.key_encrypted = rec.key_encrypted;
  info.key_uri = rec.key_uri;
  info.crl_validity = rec.crl_validity;
  CK_ASSIGN(const auto facts, cert_facts(cert));
  info.subject = facts.subject;
  info.serial_hex = serial_hex(facts.serial);
  info.not_before = facts.not_before;
  info.not_after = facts.not_after;
  CK_ASSIGN(info.sha256, fingerprint(cert, DigestKind::Sha256, FingerprintFormat::Colon));
  CK_ASSIGN(info.cert_pem, cert_to_pem(cert));
  return info;
}

namespace {

Error no_ca() {
  return Error{Code::FailedPrecondition,
               "no CA in this home yet (run `certkeeper ca init --name NAME` first)",
               {}};
}

Error no_token(const std::string& uri) {
  return Error{Code::FailedPrecondition,
               "the CA key is in a PKCS#11 token (" + uri +
                   "): set [pkcs11] module (or CERTKEEPER_PKCS11_MODULE) and the PIN "
                   "(CERTKEEPER_PKCS11_PIN or [pkcs11] pin_file)",
               {}};
}

// A fixed challenge is enough: the check is that the token's key and the
// certificate's public key are halves of one pair, not freshness.
constexpr std::string_view kSelfTest =
    "certkeeper: the CA key in the token signs for its certificate";

}  // namespace

Result<CanarySeal> Authority::canary_seal_of(UnlockedCa& ca) {
  if (!ca.record.key_uri.empty())
    return CanarySeal::to_token_key(*ca.key, *ca.cert);
  return CanarySeal::from_stored_key(*ca.key);
}

Result<EvpPkeyPtr> Authority::open_token_key(const token::KeyUri& uri, const X509& ca_cert) {
  if (token_ == nullptr)
    return fail(no_token(uri.text()));
  CK_ASSIGN(auto key, token_->private_key(uri));
  ::ERR_clear_error();
  EVP_PKEY* pub = ::X509_get0_pubkey(&ca_cert);
  EvpMdCtxPtr sign_ctx(::EVP_MD_CTX_new());
  EvpMdCtxPtr verify_ctx(::EVP_MD_CTX_new());
  const auto* msg = reinterpret_cast<const unsigned char*>(kSelfTest.data());
  std::size_t len = 0;
  if (pub == nullptr || !sign_ctx || !verify_ctx ||
      ::EVP_DigestSignInit(sign_ctx.get(), nullptr, signing_digest(*key), nullptr, key.get()) !=
          1 ||
      ::EVP_DigestSign(sign_ctx.get(), nullptr, &len, msg, kSelfTest.size()) != 1) {
    return fail(ossl_error("self-test: signing with the key in token '" + uri.token + "'"));
  }
  std::string sig(len, '\0');
  auto* sig_bytes = reinterpret_cast<unsigned char*>(sig.data());
  if (::EVP_DigestSign(sign_ctx.get(), sig_bytes, &len, msg, kSelfTest.size()) != 1)
    return fail(ossl_error("self-test: signing with the key in token '" + uri.token + "'"));
  if (::EVP_DigestVerifyInit(verify_ctx.get(), nullptr, signing_digest(*key), nullptr, pub) != 1 ||
      ::EVP_DigestVerify(verify_ctx.get(), sig_bytes, len, msg, kSelfTest.size()) != 1) {
    ::ERR_clear_error();
    return fail(Code::InvalidArgument, "the key '" + uri.object + "' in PKCS#11 token '" +
                                           uri.token + "' is not the CA certificate's key");
  }
  return key;
}

Authority::Authority(store::Store& store, const Clock& clock, RandomSource& random,
                     const Secret* ca_passphrase, std::string actor)
    : store_(store),
      clock_(clock),
      random_(random),
      passphrase_(ca_passphrase),
      actor_(std::move(actor)) {}

Status Authority::audit(store::AuditRecords& tx, std::string action, std::string subject,
                        std::string detail, Seconds at) {
  return tx.audit(
      store::AuditEntry{at, actor_, std::move(action), std::move(subject), std::move(detail)});
}

Result<CaInfo> Authority::init(const InitRequest& req) {
  if (req.name.empty() || req.name.size() > 64) {
    return fail(Code::InvalidArgument, "invalid CA name '" + req.name + "' (1-64 characters)");
  }
  const Seconds now = clock_.now_seconds();
  EvpPkeyPtr key;
  std::string key_uri;
  if (req.key_uri.empty()) {
    CK_ASSIGN(key, generate_key(req.key_type));
  } else {
    CK_ASSIGN(auto uri, token::parse_key_uri(req.key_uri));
    if (token_ == nullptr)
      return fail(no_token(uri.text()));
    {
      // Before a key is made in the token: a store with a CA already would
      // refuse it below and leave the new key behind.
      CK_ASSIGN(auto rtx, store_.read());
      CK_ASSIGN(const auto existing, rtx->find_ca());
      if (existing) {
        return fail(Code::AlreadyExists,
                    "a CA named '" + existing->name + "' exists already in " + store_.describe());
      }
    }
    CK_ASSIGN(key, token_->generate(uri, req.key_type, random_));
    key_uri = uri.text();
  }
  // A key made in the token for a CA that is then not recorded would stay
  // there, named by nothing: taken out again on every way out but success.
  struct DiscardUnlessKept {
    token::Token* token;
    bool keep = false;
    ~DiscardUnlessKept() {
      if (token != nullptr && !keep)
        token->discard_generated();
    }
  } generated{key_uri.empty() ? nullptr : token_};
  CK_ASSIGN(auto serial, random_serial(random_));
  CK_ASSIGN(auto cert, make_ca_cert(*key, {req.name, serial, now - kBackdate, now + req.validity}));
  const bool encrypt = key_uri.empty() && passphrase_ != nullptr && !passphrase_->empty();
  std::string key_pem;
  if (key_uri.empty()) {
    CK_ASSIGN(key_pem, private_key_to_pem(*key, encrypt ? passphrase_ : nullptr));
  }
  CK_ASSIGN(auto cert_der, cert_to_der(*cert));

  store::CaRecord rec{req.name, std::string(key_type_name(req.key_type)),
                      cert_der, std::move(key_pem),
                      encrypt,  req.crl_validity,
                      now,      key_uri};
  CK_ASSIGN(auto tx, store_.write());
  CK_ASSIGN(const auto existing, tx->find_ca());
  if (existing) {
    return fail(Code::AlreadyExists,
                "a CA named '" + existing->name + "' exists already in " + store_.describe());
  }
  CK_TRY(tx->insert_ca(rec));
  CK_TRY(audit(
      *tx, "ca.init", req.name,
      "key " + rec.key_type +
          (!key_uri.empty() ? " in " + key_uri : (encrypt ? ", encrypted" : ", not encrypted")),
      now));
  CK_TRY(tx->commit());
  generated.keep = true;
  CK_ASSIGN(auto info, describe_ca(rec, *cert));
  if (!encrypt && key_uri.empty()) {
    info.warnings.push_back(
        "the CA key is stored without encryption (0600); `certkeeper ca passphrase change` "
        "encrypts it later");
  }
  return info;
}

Result<CaInfo> Authority::info() {
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(const auto rec, tx->find_ca());
  if (!rec) {
    return fail(no_ca());
  }
  CK_ASSIGN(const auto cert, cert_from_der(rec->cert_der));
  return describe_ca(*rec, *cert);
}

Result<Authority::UnlockedCa> Authority::unlock(store::Tx& tx) {
  CK_ASSIGN(auto rec, tx.find_ca());
  if (!rec) {
    return fail(no_ca());
  }
  UnlockedCa ca;
  CK_ASSIGN(ca.cert, cert_from_der(rec->cert_der));
  CK_ASSIGN(ca.facts, cert_facts(*ca.cert));
  if (!rec->key_uri.empty()) {
    CK_ASSIGN(const auto uri, token::parse_key_uri(rec->key_uri));
    CK_ASSIGN(ca.key, open_token_key(uri, *ca.cert));
    ca.record = std::move(*rec);
    return ca;
  }
  if (rec->key_encrypted && (passphrase_ == nullptr || passphrase_->empty())) {
    return fail(Code::PermissionDenied,
                "the CA key is encrypted: set CERTKEEPER_CA_PASSPHRASE or [ca] passphrase_file");
  }
  auto key = parse_private_key(rec->key_pem, "CA key", passphrase_);
  if (!key) {
    if (key.error().code == Code::PermissionDenied) {
      return fail(Code::PermissionDenied, "wrong CA passphrase (the CA key does not decrypt)");
    }
    return fail(std::move(key).error());
  }
  ca.key = std::move(*key);
  if (::X509_check_private_key(ca.cert.get(), ca.key.get()) != 1) {
    ::ERR_clear_error();
    return fail(Code::Storage, "the stored CA key does not match the CA certificate");
  }
  ca.record = std::move(*rec);
  return ca;
}

Result<CaInfo> Authority::check_key() {
  {
    CK_ASSIGN(auto rtx, store_.read());
    CK_ASSIGN(const auto ca, unlock(*rtx));
  }
  return info();
}

Result<Authority::UnlockedCa> Authority::unlock(bool dry_run) {
  UnlockedCa ca;
  {
    CK_ASSIGN(auto rtx, store_.read());
    CK_ASSIGN(ca, unlock(*rtx));
  }
  if (dry_run || !ca.record.key_encrypted || !key_needs_reencryption(ca.record.key_pem))
    return ca;
  // Outside the read transaction: the derivation is slow, and the write
  // lock is not held across it. The update only lands if the stored key is
  // still the one just opened (another process may have done this first).
  const auto before = key_pbkdf2_iterations(ca.record.key_pem).value_or(0);
  CK_ASSIGN(auto pem, private_key_to_pem(*ca.key, passphrase_));
  CK_ASSIGN(auto tx, store_.write());
  CK_ASSIGN(const bool replaced, tx->replace_ca_key(ca.record.key_pem, pem, true));
  if (replaced) {
    CK_TRY(audit(*tx, "ca.key.reencrypt", ca.record.name,
                 "PBKDF2 iterations " + std::to_string(before) + " -> " +
                     std::to_string(kKeyPbkdf2Iterations),
                 clock_.now_seconds()));
    CK_TRY(tx->commit());
    ca.record.key_pem = std::move(pem);
  }
  return ca;
}

}  // namespace ck::ca
