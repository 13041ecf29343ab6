#pragma once
// RAII owners for every OpenSSL handle certkeeper uses.
//
// Ownership follows OpenSSL's names: *_new, *_dup, *get1_*, d2i_*, PEM_read_*
// return a handle we own and wrap on the same line; get0_ is borrowed; set0_
// and push take ownership, so release() only after they succeed.

#include <memory>
#include <string>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/error.h"

namespace ck {

template <auto Fn>
struct OsslFree {
  template <class T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};

using X509Ptr = std::unique_ptr<X509, OsslFree<::X509_free>>;
using X509AlgorPtr = std::unique_ptr<X509_ALGOR, OsslFree<::X509_ALGOR_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OsslFree<::X509_REQ_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OsslFree<::X509_CRL_free>>;
using X509RevokedPtr = std::unique_ptr<X509_REVOKED, OsslFree<::X509_REVOKED_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OsslFree<::X509_EXTENSION_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OsslFree<::X509_NAME_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OsslFree<::X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslFree<::X509_STORE_CTX_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OsslFree<::EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OsslFree<::EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OsslFree<::EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OsslFree<::BIO_free_all>>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, OsslFree<::PKCS12_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OsslFree<::SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OsslFree<::SSL_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OsslFree<::ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OsslFree<::ASN1_TIME_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, OsslFree<::ASN1_OCTET_STRING_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OsslFree<::BN_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, OsslFree<::AUTHORITY_KEYID_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OsslFree<::GENERAL_NAMES_free>>;

struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, ::X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

/// A second owner of the same certificate (X509_up_ref).
[[nodiscard]] X509Ptr share(X509& cert);
/// A second owner of the same key (EVP_PKEY_up_ref).
[[nodiscard]] EvpPkeyPtr share(EVP_PKEY& key);

/// Empties OpenSSL's error queue into an Error{Crypto, what, detail}.
[[nodiscard]] Error ossl_error(std::string_view what, Code code = Code::Crypto);

/// The reason text of the most recent error on the queue, without draining it.
[[nodiscard]] std::string ossl_last_reason();

}  // namespace ck
