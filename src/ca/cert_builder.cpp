#include "ca/cert_builder.h"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include "ca/profile.h"
#include "core/cert_info.h"
#include "core/keygen.h"
#include "core/time_format.h"

namespace ck::ca {
namespace {

Status set_serial(X509& cert, const std::string& serial) {
  BignumPtr bn(::BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()),
                           static_cast<int>(serial.size()), nullptr));
  Asn1IntegerPtr ai(bn ? ::BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!ai || ::X509_set_serialNumber(&cert, ai.get()) != 1) {
    return fail(ossl_error("set serial number"));
  }
  return {};
}

Status set_validity(X509& cert, Seconds not_before, Seconds not_after) {
  Asn1TimePtr nb(::ASN1_TIME_set(nullptr, not_before.time_since_epoch().count()));
  Asn1TimePtr na(::ASN1_TIME_set(nullptr, not_after.time_since_epoch().count()));
  if (!nb || !na || ::X509_set1_notBefore(&cert, nb.get()) != 1 ||
      ::X509_set1_notAfter(&cert, na.get()) != 1) {
    return fail(ossl_error("set validity"));
  }
  return {};
}

Status add_ext(X509& cert, X509V3_CTX& ctx, int nid, const char* value) {
  X509ExtensionPtr ext(::X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || ::X509_add_ext(&cert, ext.get(), -1) != 1) {
    return fail(ossl_error(std::string("add extension ") + ::OBJ_nid2sn(nid) + "=" + value));
  }
  return {};
}

// OpenSSL 3.0's X509_set_pubkey encodes the key through an OSSL_ENCODER and
// decodes it again through an OSSL_DECODER, which costs more than the
// signature itself. For EC and Ed25519 keys we write the SubjectPublicKeyInfo
// fields directly (RFC 5480 §2, RFC 8410 §4); RSA takes the generic path.
Status set_public_key(X509& cert, EVP_PKEY& key) {
  X509_PUBKEY* spki = ::X509_get_X509_PUBKEY(&cert);
  unsigned char buf[160];
  size_t len = 0;
  if (::EVP_PKEY_is_a(&key, "EC")) {
    char group[64] = {};
    size_t group_len = 0;
    const int curve = ::EVP_PKEY_get_utf8_string_param(&key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                       sizeof group, &group_len) == 1
                          ? ::OBJ_txt2nid(group)
                          : NID_undef;
    if (curve != NID_undef && spki != nullptr &&
        ::EVP_PKEY_get_octet_string_param(&key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof buf,
                                          &len) == 1) {
      auto* point = static_cast<unsigned char*>(::OPENSSL_memdup(buf, len));
      if (point != nullptr &&
          ::X509_PUBKEY_set0_param(spki, ::OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                                   ::OBJ_nid2obj(curve), point, static_cast<int>(len)) == 1) {
        return {};
      }
      ::OPENSSL_free(point);
    }
  } else if (::EVP_PKEY_is_a(&key, "ED25519")) {
    len = sizeof buf;
    if (spki != nullptr && ::EVP_PKEY_get_raw_public_key(&key, buf, &len) == 1) {
      auto* raw = static_cast<unsigned char*>(::OPENSSL_memdup(buf, len));
      if (raw != nullptr && ::X509_PUBKEY_set0_param(spki, ::OBJ_nid2obj(NID_ED25519), V_ASN1_UNDEF,
                                                     nullptr, raw, static_cast<int>(len)) == 1) {
        return {};
      }
      ::OPENSSL_free(raw);
    }
  }
  ::ERR_clear_error();
  if (::X509_set_pubkey(&cert, &key) != 1) {
    return fail(ossl_error("set public key"));
  }
  return {};
}

// Signs, then checks the signature against `issuer_public` (the CA
// certificate's key) before anyone sees the certificate: a token or a
// faulty signer that returns a wrong signature stops here, not at a server.
Status sign(X509& cert, EVP_PKEY& key, EVP_PKEY& issuer_public, bool check = true) {
  if (::X509_sign(&cert, &key, signing_digest(key)) <= 0) {
    return fail(ossl_error("sign certificate"));
  }
  if (check && ::X509_verify(&cert, &issuer_public) != 1) {
    ::ERR_clear_error();
    return fail(Code::Internal,
                "the CA key made a signature the CA certificate does not verify: nothing issued");
  }
  return {};
}

}  // namespace

Result<X509Ptr> make_ca_cert(EVP_PKEY& key, const CaCertRequest& req) {
  ::ERR_clear_error();
  X509Ptr cert(::X509_new());
  if (!cert || ::X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return fail(ossl_error("create CA certificate"));
  }
  CK_TRY(set_serial(*cert, req.serial));
  CK_TRY(set_validity(*cert, req.not_before, req.not_after));
  X509NamePtr name(::X509_NAME_new());
  if (::X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(req.name.data()),
                                   static_cast<int>(req.name.size()), -1, 0) != 1 ||
      ::X509_set_subject_name(cert.get(), name.get()) != 1 ||
      ::X509_set_issuer_name(cert.get(), name.get()) != 1 ||
      ::X509_set_pubkey(cert.get(), &key) != 1) {
    return fail(ossl_error("CA name '" + req.name + "'", Code::InvalidArgument));
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  CK_TRY(add_ext(*cert, ctx, NID_basic_constraints, "critical,CA:TRUE"));
  CK_TRY(add_ext(*cert, ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
  CK_TRY(add_ext(*cert, ctx, NID_subject_key_identifier, "hash"));
  // Self-signed: the key written into it checks the signature.
  CK_TRY(sign(*cert, key, *::X509_get0_pubkey(cert.get())));
  return cert;
}

Result<X509Ptr> make_client_cert(X509& ca_cert, EVP_PKEY& ca_key, const ClientCertRequest& req) {
  ::ERR_clear_error();
  CK_ASSERT(req.profile != nullptr && req.public_key != nullptr);
  X509Ptr cert(::X509_new());
  if (!cert || ::X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return fail(ossl_error("create certificate"));
  }
  CK_TRY(set_serial(*cert, req.serial));
  CK_TRY(set_validity(*cert, req.not_before, req.not_after));
  CK_ASSIGN(auto subject, subject_name(*req.profile));
  if (::X509_set_subject_name(cert.get(), subject.get()) != 1 ||
      ::X509_set_issuer_name(cert.get(), ::X509_get_subject_name(&ca_cert)) != 1) {
    return fail(ossl_error("build certificate"));
  }
  CK_TRY(set_public_key(*cert, *req.public_key));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, &ca_cert, cert.get(), nullptr, nullptr, 0);
  CK_TRY(add_ext(*cert, ctx, NID_basic_constraints, "critical,CA:FALSE"));
  const bool rsa = ::EVP_PKEY_is_a(req.public_key, "RSA") != 0;
  CK_TRY(add_ext(*cert, ctx, NID_key_usage,
                 rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature"));
  CK_TRY(add_ext(*cert, ctx, NID_ext_key_usage, "clientAuth"));
  CK_TRY(add_ext(*cert, ctx, NID_subject_key_identifier, "hash"));
  CK_TRY(add_ext(*cert, ctx, NID_authority_key_identifier, "keyid:always"));
  // The e-mail goes in through a GENERAL_NAME, not the config syntax, so a
  // comma or colon in it cannot inject a second name.
  GeneralNamesPtr sans(::GENERAL_NAMES_new());
  GENERAL_NAME* gn = ::GENERAL_NAME_new();
  ASN1_IA5STRING* ia5 = ::ASN1_IA5STRING_new();
  if (gn == nullptr || ia5 == nullptr ||
      ::ASN1_STRING_set(ia5, req.profile->email.data(),
                        static_cast<int>(req.profile->email.size())) != 1) {
    ::GENERAL_NAME_free(gn);
    ::ASN1_IA5STRING_free(ia5);
    return fail(ossl_error("subjectAltName"));
  }
  ::GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
  if (sk_GENERAL_NAME_push(sans.get(), gn) == 0) {
    ::GENERAL_NAME_free(gn);
    return fail(ossl_error("subjectAltName"));
  }
  if (::X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, sans.get(), 0, X509V3_ADD_DEFAULT) !=
      1) {
    return fail(ossl_error("subjectAltName"));
  }
  EVP_PKEY* issuer_public = ::X509_get0_pubkey(&ca_cert);
  if (issuer_public == nullptr)
    return fail(ossl_error("the CA certificate's public key"));
  CK_TRY(sign(*cert, ca_key, *issuer_public, req.check_signature));
  return cert;
}

Result<CertFacts> cert_facts(const X509& cert) {
  CertFacts f;
  const ASN1_INTEGER* serial = ::X509_get0_serialNumber(&cert);
  BignumPtr bn(::ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    return fail(ossl_error("read serial"));
  }
  f.serial.resize(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  ::BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(f.serial.data()));
  if (f.serial.empty()) {
    f.serial.assign(1, '\0');
  }
  CK_ASSIGN(f.not_before, from_asn1_time(*::X509_get0_notBefore(&cert)));
  CK_ASSIGN(f.not_after, from_asn1_time(*::X509_get0_notAfter(&cert)));
  f.subject = name_rfc2253(*::X509_get_subject_name(&cert));
  return f;
}

}  // namespace ck::ca
