// The CRL encoder writes the entries once and builds the head in room left
// in front of them; these tests read what it wrote with OpenSSL, not with
// our own parser, for issuers whose name fits that room and one that does not.

#include "ca/crl_codec.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <chrono>
#include <string>

#include "core/keygen.h"

namespace ck::ca {
namespace {

using std::chrono::seconds;

struct Issuer {
  EvpPkeyPtr key;
  X509Ptr cert;
};

// A self-signed issuer whose subject holds `ou_count` OU attributes of 60
// characters each: 0 gives a short name, 20 one of more than 1 KiB.
Issuer make_issuer(int ou_count) {
  Issuer out;
  auto key = generate_key(KeyType::EcP256);
  EXPECT_TRUE(key.has_value());
  out.key = std::move(*key);
  out.cert.reset(::X509_new());
  X509* x = out.cert.get();
  ::X509_set_version(x, 2);
  ::ASN1_INTEGER_set(::X509_get_serialNumber(x), 1);
  X509_NAME* name = ::X509_get_subject_name(x);
  const auto add = [&](const char* field, const std::string& value) {
    ::X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0);
  };
  add("CN", "CRL codec test CA");
  for (int i = 0; i < ou_count; ++i)
    add("OU", std::string(58, 'a' + static_cast<char>(i % 26)) + std::to_string(i % 10) + "u");
  ::X509_set_issuer_name(x, name);
  ::X509_gmtime_adj(::X509_getm_notBefore(x), 0);
  ::X509_gmtime_adj(::X509_getm_notAfter(x), 86400);
  ::X509_set_pubkey(x, out.key.get());
  EXPECT_GT(::X509_sign(x, out.key.get(), ::EVP_sha256()), 0);
  return out;
}

std::string serial_of(int i) {
  std::string s(16, '\x11');
  s[14] = static_cast<char>(i >> 8);
  s[15] = static_cast<char>(i & 0xff);
  return s;
}

// Encodes `count` entries, then checks with OpenSSL: the DER is one CRL and
// nothing else, signed by the issuer, naming it, with every entry in order.
void encode_and_check(const Issuer& issuer, int count, std::size_t expected_hint) {
  CrlEncoder encoder(expected_hint);
  const Seconds at{seconds(1'800'000'000)};
  for (int i = 0; i < count; ++i)
    encoder.add(serial_of(i), at, i % 2 == 0 ? 1 : 0);
  ASSERT_EQ(encoder.count(), static_cast<std::size_t>(count));
  const CrlSpec spec{7, at, at + seconds(86400)};
  auto der = std::move(encoder).finish(*issuer.cert, *issuer.key, spec);
  ASSERT_TRUE(der.has_value()) << der.error().message;

  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  X509CrlPtr crl(::d2i_X509_CRL(nullptr, &p, static_cast<long>(der->size())));
  ASSERT_TRUE(crl);
  EXPECT_EQ(reinterpret_cast<const char*>(p), der->data() + der->size()) << "trailing bytes";
  EXPECT_EQ(::X509_CRL_verify(crl.get(), issuer.key.get()), 1);
  EXPECT_EQ(::X509_NAME_cmp(::X509_CRL_get_issuer(crl.get()),
                            ::X509_get_subject_name(issuer.cert.get())),
            0);
  const STACK_OF(X509_REVOKED)* revoked = ::X509_CRL_get_REVOKED(crl.get());
  ASSERT_EQ(revoked ? sk_X509_REVOKED_num(revoked) : 0, count);
  for (int i = 0; i < count; ++i) {
    const ASN1_INTEGER* serial = ::X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
    BignumPtr bn(::ASN1_INTEGER_to_BN(serial, nullptr));
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
    ::BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
    ASSERT_EQ(bytes, serial_of(i)) << "entry " << i;
  }

  auto parsed = parse_crl_der(*der, issuer.key.get());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->number, 7);
  EXPECT_EQ(parsed->entries.size(), static_cast<std::size_t>(count));
}

TEST(CrlEncoderTest, ShortIssuerNameWithEntriesReadsBackInOpenSsl) {
  const auto issuer = make_issuer(0);
  encode_and_check(issuer, 300, 300);
}

TEST(CrlEncoderTest, IssuerNameLongerThanTheRoomInFrontStillEncodes) {
  const auto issuer = make_issuer(20);
  unsigned char* buf = nullptr;
  const int len = ::i2d_X509_NAME(::X509_get_subject_name(issuer.cert.get()), &buf);
  ::OPENSSL_free(buf);
  ASSERT_GT(len, 1100) << "the name must not fit in front of the entries";
  encode_and_check(issuer, 300, 300);
}

TEST(CrlEncoderTest, EmptyCrlAndUnderestimatedSizeBothEncode) {
  const auto issuer = make_issuer(0);
  encode_and_check(issuer, 0, 0);
  encode_and_check(issuer, 1000, 1);  // the buffer grows past its reservation
}

}  // namespace
}  // namespace ck::ca
