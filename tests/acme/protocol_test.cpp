#include <gtest/gtest.h>

#include "acme/client.h"
#include "acme/document.h"
#include "acme/issue.h"
#include "acme/problem.h"
#include "core/cert_info.h"
#include "core/keygen.h"
#include "core/pem.h"

namespace ck::acme {
namespace {

using nlohmann::json;

TEST(Problem, NamesTypeDetailAndEverySubproblem) {
  const json p = {{"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
                  {"detail", "Some of the identifiers requested were rejected"},
                  {"subproblems",
                   {{{"type", "urn:ietf:params:acme:error:malformed"},
                     {"detail", "Invalid underscore in DNS name \"_example.org\""},
                     {"identifier", {{"type", "dns"}, {"value", "_example.org"}}}},
                    {{"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
                     {"detail", "This CA will not issue for \"example.net\""},
                     {"identifier", {{"type", "dns"}, {"value", "example.net"}}}}}}};
  EXPECT_EQ(describe_problem(p),
            "rejectedIdentifier: Some of the identifiers requested were rejected; "
            "_example.org: malformed: Invalid underscore in DNS name \"_example.org\"; "
            "example.net: rejectedIdentifier: This CA will not issue for \"example.net\"");
  const auto e = problem_error("creating the ACME order", 400, p.dump());
  EXPECT_EQ(e.code, Code::InvalidArgument);
  EXPECT_TRUE(e.message.starts_with("creating the ACME order: rejectedIdentifier: "));
}

TEST(Problem, NonProblemBodyShowsStatusAndStart) {
  const auto e = problem_error("ACME directory https://x/dir", 404, "404 page not found\n");
  EXPECT_EQ(e.message, "ACME directory https://x/dir: HTTP 404 (404 page not found )");
}

TEST(RetryAfter, SecondsAndHttpDates) {
  const Seconds now{std::chrono::seconds(1'700'000'000)};  // 2023-11-14T22:13:20Z
  EXPECT_EQ(parse_retry_after("3", now), std::chrono::seconds(3));
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now), std::chrono::seconds(30));
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), std::chrono::seconds(0));
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
}

TEST(RenewalInfo, WindowWithFractionsAndOffsets) {
  const auto w = parse_renewal_window(
      {{"suggestedWindow",
        {{"start", "2025-01-02T04:00:00.123Z"}, {"end", "2025-01-03T06:00:00+02:00"}}},
       {"explanationURL", "https://acme.example.com/docs/ari"}});
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->start.time_since_epoch().count(), 1735790400);
  EXPECT_EQ(w->end.time_since_epoch().count(), 1735876800);  // 04:00Z
  EXPECT_FALSE(parse_renewal_window(
      {{"suggestedWindow", {{"start", "2025-01-03T00:00:00Z"}, {"end", "2025-01-02T00:00:00Z"}}}}));
  EXPECT_FALSE(parse_renewal_window(json::object()));
}

// RFC 9773 §4.1's example: AKI 69:88:5B:..., serial 00:87:65:43:21.
TEST(RenewalInfo, CertificateIdOfTheRfcExample) {
  X509Ptr cert(::X509_new());
  BignumPtr serial;
  BIGNUM* raw = nullptr;
  ASSERT_GT(::BN_hex2bn(&raw, "87654321"), 0);
  serial.reset(raw);
  ASSERT_NE(::BN_to_ASN1_INTEGER(serial.get(), ::X509_get_serialNumber(cert.get())), nullptr);
  AuthorityKeyIdPtr akid(::AUTHORITY_KEYID_new());
  akid->keyid = ::ASN1_OCTET_STRING_new();
  const unsigned char id[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                              0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
  ASSERT_EQ(::ASN1_OCTET_STRING_set(akid->keyid, id, sizeof id), 1);
  ASSERT_EQ(::X509_add1_ext_i2d(cert.get(), NID_authority_key_identifier, akid.get(), 0, 0), 1);
  const auto cert_id = renewal_cert_id(*cert);
  ASSERT_TRUE(cert_id) << cert_id.error().message;
  EXPECT_EQ(*cert_id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

TEST(Order, ParsesAndRefusesIncomplete) {
  const auto o = parse_order({{"status", "pending"},
                              {"authorizations", {"https://x/authz/1", "https://x/authz/2"}},
                              {"finalize", "https://x/finalize/1"}},
                             "https://x/order/1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->authorizations.size(), 2u);
  EXPECT_FALSE(parse_order({{"status", "pending"}}, "https://x/order/1"));
  const auto a = parse_authorization(
      {{"status", "pending"},
       {"identifier", {{"type", "dns"}, {"value", "example.org"}}},
       {"wildcard", true},
       {"challenges", {{{"type", "dns-01"}, {"url", "https://x/c/1"}, {"token", "tok"}}}}},
      "https://x/authz/1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->wildcard);
  ASSERT_NE(a->find("dns-01"), nullptr);
  EXPECT_EQ(a->find("http-01"), nullptr);
}

// tests/fuzz/regressions/acme_json/deep-error.json: an order whose error
// nests 50,000 arrays overflowed the stack when parse_order copied it.
TEST(Document, NestingDeeperThanAcmeIsRefusedBeforeAnyCopy) {
  const auto nested = [](std::size_t depth) {
    return R"({"status":"invalid","finalize":"https://x/f","error":)" + std::string(depth, '[') +
           std::string(depth, ']') + "}";
  };
  const auto deep = parse_document(nested(1'000'000));
  EXPECT_TRUE(deep.is_discarded());
  EXPECT_TRUE(parse_document(nested(kMaxDocumentDepth + 1)).is_discarded());
  // A problem body that deep reads as a body that is not a problem.
  const std::string deep_problem = R"({"type":"urn:ietf:params:acme:error:malformed","x":)" +
                                   std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_TRUE(problem_error("ACME order", 400, deep_problem)
                  .message.starts_with("ACME order: HTTP 400 ({\"type\""));

  const auto ok = parse_document(nested(kMaxDocumentDepth - 1));
  ASSERT_FALSE(ok.is_discarded());
  const auto order = parse_order(ok, "https://x/order/1");
  ASSERT_TRUE(order);
  EXPECT_TRUE(order->error.is_array());
  EXPECT_TRUE(parse_document("{\"a\":").is_discarded());
}

TEST(Domains, NormalizedOrRefused) {
  EXPECT_EQ(*normalize_domain("WWW.Example.ORG."), "www.example.org");
  EXPECT_EQ(*normalize_domain("*.example.org"), "*.example.org");
  for (const char* bad : {"", "*.", "a..b", "-a.b", "a b.c", "bad_name!", "a.*.b"})
    EXPECT_FALSE(normalize_domain(bad)) << bad;
}

TEST(Csr, NamesEveryDomainAndIsSigned) {
  auto key = generate_key(KeyType::EcP256);
  const auto der = make_csr_der(**key, {"*.example.org", "example.org"});
  ASSERT_TRUE(der);
  auto csr = parse_csr(*der, "csr");
  ASSERT_TRUE(csr);
  EvpPkeyPtr pub(::X509_REQ_get_pubkey(csr->get()));
  EXPECT_EQ(::X509_REQ_verify(csr->get(), pub.get()), 1);
  EXPECT_EQ(name_rfc2253(*::X509_REQ_get_subject_name(csr->get())), "CN=*.example.org");
}

TEST(Dns01, ValueIsUnpaddedBase64UrlOfSha256) {
  const auto v = dns01_value("token.thumbprint");
  EXPECT_EQ(v.size(), 43u);
  EXPECT_EQ(v.find('='), std::string::npos);
}

}  // namespace
}  // namespace ck::acme
