#include "probe/http_verdict.h"

#include <gtest/gtest.h>

namespace ck::probe {
namespace {

TEST(HttpVerdict, NginxCertificateErrorsAreRefusals) {
  const std::string page =
      "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n\r\n"
      "<html><head><title>400 The SSL certificate error</title></head>";
  auto v = http_verdict(page, false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->verdict, ClientVerdict::RefusedHttp);
  EXPECT_EQ(v->status, 400);
  v = http_verdict("HTTP/1.1 400 Bad Request\r\n\r\nNo required SSL certificate was sent", true);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->verdict, ClientVerdict::RefusedHttp);
  for (const char* mapped : {"HTTP/1.1 495 x\r\n", "HTTP/1.1 496 x\r\n"}) {
    v = http_verdict(mapped, false);
    ASSERT_TRUE(v) << mapped;
    EXPECT_EQ(v->verdict, ClientVerdict::RefusedHttp) << mapped;
  }
}

TEST(HttpVerdict, A400WaitsForItsBodyThenCountsAsTheApplications) {
  EXPECT_FALSE(http_verdict("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n", false))
      << "the wording may come in the next record";
  auto v = http_verdict("HTTP/1.1 400 Bad Request\r\n\r\nbad form field", true);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->verdict, ClientVerdict::Accepted) << "past TLS: the application's own 400";
  EXPECT_EQ(v->status, 400);
}

TEST(HttpVerdict, AnyOtherStatusIsPastTheCertificate) {
  for (const auto& [line, status] :
       std::vector<std::pair<std::string, int>>{{"HTTP/1.1 200 OK\r\n", 200},
                                                {"HTTP/1.0 403 Forbidden\r\n", 403},
                                                {"HTTP/1.1 302\r\n", 302}}) {
    auto v = http_verdict(line, false);
    ASSERT_TRUE(v) << line;
    EXPECT_EQ(v->verdict, ClientVerdict::Accepted) << line;
    EXPECT_EQ(v->status, status) << line;
  }
}

TEST(HttpVerdict, NothingOrNotHttp) {
  EXPECT_FALSE(http_verdict("HTTP/1.1 20", false)) << "no line yet";
  auto v = http_verdict("", true);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->verdict, ClientVerdict::Closed);
  v = http_verdict("SSH-2.0-OpenSSH\r\n", false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->verdict, ClientVerdict::Accepted);
  EXPECT_EQ(v->status, 0);
  v = http_verdict("HTTP/1.1 4x0 odd\r\n", false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->status, 0);
  v = http_verdict("HTTP/1.1 099 low\r\n", false);  // found by the starttls fuzz target
  ASSERT_TRUE(v);
  EXPECT_EQ(v->status, 0);
  v = http_verdict(std::string(kMaxHttpAnswer, 'a'), false);
  ASSERT_TRUE(v) << "an endless line ends at the cap";
}

}  // namespace
}  // namespace ck::probe
