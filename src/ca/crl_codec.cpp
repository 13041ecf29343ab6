#include "ca/crl_codec.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <limits>

#include "core/der.h"
#include "core/keygen.h"

namespace ck::ca {
namespace {

// DER of the OIDs (RFC 5280 §5.2, §5.3).
constexpr std::string_view kOidReasonCode("\x55\x1d\x15", 3);  // 2.5.29.21
constexpr std::string_view kOidCrlNumber("\x55\x1d\x14", 3);   // 2.5.29.20
constexpr std::string_view kOidAki("\x55\x1d\x23", 3);         // 2.5.29.35

std::string extension(std::string_view oid, std::string_view value_der) {
  std::string body;
  der::put_tlv(body, der::kOid, oid);
  der::put_tlv(body, der::kOctetString, value_der);
  std::string out;
  der::put_tlv(out, der::kSequence, body);
  return out;
}

Result<std::string> issuer_key_id(const X509& issuer) {
  if (const ASN1_OCTET_STRING* ski = ::X509_get0_subject_key_id(const_cast<X509*>(&issuer))) {
    return std::string(reinterpret_cast<const char*>(::ASN1_STRING_get0_data(ski)),
                       static_cast<std::size_t>(::ASN1_STRING_length(ski)));
  }
  // RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (::X509_pubkey_digest(&issuer, ::EVP_sha1(), md, &len) != 1) {
    return fail(ossl_error("compute issuer key identifier"));
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

// Calls fn(oid, value) for each Extension in a SEQUENCE OF Extension
// (RFC 5280 §4.1: extnID, critical DEFAULT FALSE, extnValue).
template <class Fn>
Status for_each_extension(std::string_view extensions, Fn fn) {
  der::Reader exts(extensions);
  while (!exts.empty()) {
    CK_ASSIGN(const auto ext, exts.expect(der::kSequence, "extension"));
    der::Reader x(ext.content);
    CK_ASSIGN(const auto oid, x.expect(der::kOid, "extension id"));
    if (x.peek_tag() == der::kBoolean)
      CK_TRY(x.next());
    CK_ASSIGN(const auto value, x.expect(der::kOctetString, "extension value"));
    CK_TRY(fn(oid.content, value.content));
  }
  return {};
}

}  // namespace

namespace {
// The entries are the bulk of a CRL (50 MB at a million). They are written
// once, into the buffer that is returned: the tbsCertList head goes into room
// left in front of them and the signature after them, so the bytes are never
// copied into a second buffer (each copy of a fresh 50 MB buffer costs as
// much as encoding it, mostly in page faults). An issuer name too long for
// the room moves the entries once.
constexpr std::size_t kHeadroom = 1024;
constexpr std::size_t kTailroom = 1024;  // CRL extensions, algorithm, signature
constexpr std::size_t kMaxHeader = 10;   // tag, 0x80|n, n <= 8 length bytes
}  // namespace

CrlEncoder::CrlEncoder(std::size_t expected_entries) {
  entries_.reserve(kHeadroom + expected_entries * 52 + kTailroom);
  entries_.assign(kHeadroom, '\0');
}

void CrlEncoder::add(std::string_view serial, Seconds revoked_at, int reason) {
  std::string& out = entries_;
  // Encode the entry's content after a placeholder header, then patch the
  // length: entries are < 128 bytes, so the header is always two bytes.
  const std::size_t start = out.size();
  out.append(2, '\0');
  der::put_unsigned_integer(out, serial);
  // Revocation dates repeat (a CRL often holds many entries of one day's
  // work); formatting a time costs more than the rest of the entry.
  if (revoked_at != last_time_ || last_time_der_.empty()) {
    last_time_der_.clear();
    der::put_time(last_time_der_, revoked_at);
    last_time_ = revoked_at;
  }
  out += last_time_der_;
  if (reason != 0) {
    // CRLReason is an ENUMERATED of at most 10 (RFC 5280 §5.3.1).
    out += reason_extensions(static_cast<std::uint8_t>(reason));
  }
  const std::size_t len = out.size() - start - 2;
  CK_ASSERT(len < 0x80);
  out[start] = static_cast<char>(der::kSequence);
  out[start + 1] = static_cast<char>(len);
  ++count_;
}

namespace {

// The AlgorithmIdentifier of signing with `key` and its digest (RFC 5754
// for ECDSA: no parameters; RFC 4055 for RSA PKCS#1 v1.5: NULL).
Result<std::string> signature_algorithm_der(EVP_PKEY& key) {
  const EVP_MD* md = signing_digest(key);
  int sig_nid = NID_undef;
  if (md == nullptr || ::OBJ_find_sigid_by_algs(&sig_nid, ::EVP_MD_get_type(md),
                                                ::EVP_PKEY_get_base_id(&key)) != 1) {
    return fail(Code::InvalidArgument, "no signature algorithm for this CA key");
  }
  const bool rsa = ::EVP_PKEY_get_base_id(&key) == EVP_PKEY_RSA;
  X509AlgorPtr alg(::X509_ALGOR_new());
  if (!alg || ::X509_ALGOR_set0(alg.get(), ::OBJ_nid2obj(sig_nid), rsa ? V_ASN1_NULL : V_ASN1_UNDEF,
                                nullptr) != 1) {
    return fail(ossl_error("signature algorithm identifier"));
  }
  unsigned char* der = nullptr;
  const int len = ::i2d_X509_ALGOR(alg.get(), &der);
  if (len <= 0)
    return fail(ossl_error("signature algorithm identifier"));
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  ::OPENSSL_free(der);
  return out;
}

}  // namespace

const std::string& CrlEncoder::reason_extensions(std::uint8_t reason) {
  std::string& cached = reason_ext_[reason];
  if (cached.empty()) {
    std::string value;
    der::put_tlv(value, der::kEnumerated, std::string(1, static_cast<char>(reason)));
    der::put_tlv(cached, der::kSequence, extension(kOidReasonCode, value));
  }
  return cached;
}

Result<std::string> CrlEncoder::finish(const X509& issuer, EVP_PKEY& key, const CrlSpec& spec) && {
  ::ERR_clear_error();
  EvpMdCtxPtr md_ctx(::EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // owned by md_ctx
  if (!md_ctx ||
      ::EVP_DigestSignInit(md_ctx.get(), &pkey_ctx, signing_digest(key), nullptr, &key) != 1) {
    return fail(ossl_error("start CRL signature"));
  }
  // The provider knows the AlgorithmIdentifier of what it is about to sign with.
  unsigned char alg_buf[128];
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, alg_buf, sizeof alg_buf),
      OSSL_PARAM_construct_end()};
  std::string alg_id;
  if (::EVP_PKEY_CTX_get_params(pkey_ctx, params) == 1 && params[0].return_size > 0) {
    alg_id.assign(reinterpret_cast<const char*>(alg_buf), params[0].return_size);
  } else {
    // A key of an engine (a PKCS#11 token's) signs outside the providers,
    // which then cannot say: the identifier follows from digest and key.
    ::ERR_clear_error();
    CK_ASSIGN(alg_id, signature_algorithm_der(key));
  }

  unsigned char* name_buf = nullptr;
  const int name_len = ::i2d_X509_NAME(::X509_get_subject_name(&issuer), &name_buf);
  if (name_len <= 0) {
    return fail(ossl_error("encode CRL issuer"));
  }
  const std::string issuer_der(reinterpret_cast<char*>(name_buf),
                               static_cast<std::size_t>(name_len));
  ::OPENSSL_free(name_buf);

  CK_ASSIGN(const std::string key_id, issuer_key_id(issuer));
  std::string aki_value;
  {
    std::string body;
    der::put_tlv(body, der::kContext0Prim, key_id);
    der::put_tlv(aki_value, der::kSequence, body);
  }
  std::string number_value;
  der::put_small_integer(number_value, static_cast<std::uint64_t>(spec.number));
  std::string exts = extension(kOidAki, aki_value) + extension(kOidCrlNumber, number_value);
  std::string exts_seq;
  der::put_tlv(exts_seq, der::kSequence, exts);
  std::string crl_exts;
  der::put_tlv(crl_exts, der::kContext0, exts_seq);

  std::string head;
  der::put_small_integer(head, 1);  // v2
  head += alg_id;
  head += issuer_der;
  der::put_time(head, spec.this_update);
  der::put_time(head, spec.next_update);

  std::string& buf = entries_;
  const std::size_t entries_len = buf.size() - kHeadroom;
  std::string revoked_header;
  if (count_ > 0) {
    // RFC 5280 §5.1.2.6: when there are no revoked certificates, the list is absent.
    der::put_header(revoked_header, der::kSequence, entries_len);
  }
  const std::size_t tbs_len = head.size() + revoked_header.size() + entries_len + crl_exts.size();
  std::string prefix;
  der::put_header(prefix, der::kSequence, tbs_len);
  prefix += head;
  prefix += revoked_header;
  std::size_t room = kHeadroom;
  if (prefix.size() + kMaxHeader > room) {
    buf.insert(0, prefix.size() + kMaxHeader - room, '\0');
    room = prefix.size() + kMaxHeader;
  }
  const std::size_t tbs_start = room - prefix.size();
  buf.replace(tbs_start, prefix.size(), prefix);
  buf += crl_exts;
  const std::size_t tbs_size = buf.size() - tbs_start;
  CK_ASSERT(tbs_size == der::header_size(tbs_len) + tbs_len);

  std::size_t sig_len = 0;
  const auto* tbs_bytes = reinterpret_cast<const unsigned char*>(buf.data() + tbs_start);
  if (::EVP_DigestSign(md_ctx.get(), nullptr, &sig_len, tbs_bytes, tbs_size) != 1) {
    return fail(ossl_error("sign CRL"));
  }
  std::string sig(sig_len + 1, '\0');  // leading 0: no unused bits in the BIT STRING
  if (::EVP_DigestSign(md_ctx.get(), reinterpret_cast<unsigned char*>(sig.data() + 1), &sig_len,
                       tbs_bytes, tbs_size) != 1) {
    return fail(ossl_error("sign CRL"));
  }
  sig.resize(sig_len + 1);

  std::string sig_tlv;
  der::put_tlv(sig_tlv, der::kBitString, sig);
  const std::size_t total = tbs_size + alg_id.size() + sig_tlv.size();
  std::string outer;
  der::put_header(outer, der::kSequence, total);
  const std::size_t start = tbs_start - outer.size();
  buf.replace(start, outer.size(), outer);
  buf += alg_id;
  buf += sig_tlv;
  buf.erase(0, start);  // within pages already touched: no new faults
  return std::move(buf);
}

Result<ParsedCrl> parse_crl_der(std::string_view bytes, EVP_PKEY* issuer_key) {
  auto bad = [](std::string_view what) {
    return fail(Code::InvalidArgument, "malformed CRL: " + std::string(what));
  };
  der::Reader top(bytes);
  auto outer = top.expect(der::kSequence, "CertificateList");
  if (!outer || !top.empty())
    return bad("not a single DER CertificateList");
  der::Reader list(outer->content);
  auto tbs = list.expect(der::kSequence, "tbsCertList");
  auto alg = list.expect(der::kSequence, "signatureAlgorithm");
  auto sig = list.expect(der::kBitString, "signatureValue");
  if (!tbs || !alg || !sig || !list.empty() || sig->content.empty() || sig->content[0] != '\0') {
    return bad("bad outer structure");
  }

  ParsedCrl out;
  der::Reader t(tbs->content);
  if (t.peek_tag() == der::kInteger) {
    CK_TRY(t.next());
  }
  auto inner_alg = t.expect(der::kSequence, "signature");
  if (!inner_alg || inner_alg->whole != alg->whole)
    return bad("inner and outer algorithms differ");
  CK_TRY(t.expect(der::kSequence, "issuer"));
  CK_ASSIGN(const auto this_update, t.next());
  CK_ASSIGN(out.this_update, der::parse_time(this_update));
  if (t.peek_tag() == der::kUtcTime || t.peek_tag() == der::kGeneralizedTime) {
    CK_ASSIGN(const auto next_update, t.next());
    CK_ASSIGN(out.next_update, der::parse_time(next_update));
  }
  if (t.peek_tag() == der::kSequence) {
    CK_ASSIGN(const auto revoked, t.next());
    der::Reader entries(revoked.content);
    out.entries.reserve(revoked.content.size() / 40);
    while (!entries.empty()) {
      CK_ASSIGN(const auto entry, entries.expect(der::kSequence, "revoked certificate"));
      der::Reader e(entry.content);
      CK_ASSIGN(const auto serial, e.expect(der::kInteger, "serial"));
      CK_ASSIGN(const auto when, e.next());
      CrlEntryView view;
      view.serial = serial.content;
      while (view.serial.size() > 1 && view.serial[0] == '\0')
        view.serial.remove_prefix(1);
      CK_ASSIGN(view.revoked_at, der::parse_time(when));
      if (!e.empty()) {
        CK_ASSIGN(const auto ext_seq, e.expect(der::kSequence, "entry extensions"));
        CK_TRY(for_each_extension(
            ext_seq.content, [&](std::string_view oid, std::string_view value) -> Status {
              if (oid != kOidReasonCode)
                return {};
              der::Reader v(value);
              CK_ASSIGN(const auto code, v.expect(der::kEnumerated, "reason code"));
              if (code.content.size() != 1)
                return bad("reason code");
              view.reason = static_cast<std::uint8_t>(code.content[0]);
              return {};
            }));
      }
      out.entries.push_back(view);
    }
  }
  if (t.peek_tag() == der::kContext0) {
    CK_ASSIGN(const auto wrapper, t.next());
    der::Reader w(wrapper.content);
    CK_ASSIGN(const auto ext_seq, w.expect(der::kSequence, "crlExtensions"));
    CK_TRY(for_each_extension(ext_seq.content,
                              [&](std::string_view oid, std::string_view value) -> Status {
                                if (oid != kOidCrlNumber)
                                  return {};
                                der::Reader v(value);
                                CK_ASSIGN(const auto n, v.expect(der::kInteger, "CRL number"));
                                if (n.content.empty() || n.content.size() > 9)
                                  return bad("CRL number out of range");
                                std::uint64_t num = 0;
                                for (const char c : n.content)
                                  num = (num << 8) | static_cast<std::uint8_t>(c);
                                out.number = static_cast<std::int64_t>(num);
                                return {};
                              }));
  }
  if (!t.empty())
    return bad("trailing data in tbsCertList");

  if (issuer_key != nullptr) {
    ::ERR_clear_error();
    EvpMdCtxPtr ctx(::EVP_MD_CTX_new());
    const auto* sig_bytes = reinterpret_cast<const unsigned char*>(sig->content.data() + 1);
    if (!ctx ||
        ::EVP_DigestVerifyInit(ctx.get(), nullptr, signing_digest(*issuer_key), nullptr,
                               issuer_key) != 1 ||
        ::EVP_DigestVerify(ctx.get(), sig_bytes, sig->content.size() - 1,
                           reinterpret_cast<const unsigned char*>(tbs->whole.data()),
                           tbs->whole.size()) != 1) {
      return fail(ossl_error("CRL signature does not verify with the CA key"));
    }
  }
  return out;
}

std::optional<std::string> crl_der_of(std::string_view bytes) {
  if (bytes.find("-----BEGIN ") == std::string_view::npos)
    return std::string(bytes);
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return std::nullopt;
  BioPtr bio(::BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  std::optional<std::string> der;
  if (bio && ::PEM_read_bio(bio.get(), &name, &header, &data, &len) == 1 &&
      std::string_view(name) == "X509 CRL")
    der.emplace(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len));
  ::OPENSSL_free(name);
  ::OPENSSL_free(header);
  ::OPENSSL_free(data);
  ::ERR_clear_error();
  return der;
}

}  // namespace ck::ca
