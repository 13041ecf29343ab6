#include "ca/openssl_index.h"

#include <gtest/gtest.h>

#include "ca/serial.h"

namespace ck::ca {
namespace {

TEST(OpensslIndex, ReadsValidRevokedAndExpiredLines) {
  const std::string text =
      "V\t271123080000Z\t\t1000\tunknown\t/CN=alice/emailAddress=alice@example.org\n"
      "R\t271123080000Z\t261101120000Z,keyCompromise\t1001\tunknown\t/CN=bob/O=Example\n"
      "R\t271123080000Z\t261101120000Z\t1002\tunknown\t/CN=carol\n"
      "E\t200201000000Z\t\t1003\tunknown\t/CN=dave\n";
  auto entries = parse_openssl_index(text, "index.txt");
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].attributes.at("emailAddress"), "alice@example.org");
  EXPECT_EQ(serial_hex((*entries)[1].serial), "1001");
  EXPECT_EQ((*entries)[1].reason, 1);
  EXPECT_EQ((*entries)[2].reason, 0);
  EXPECT_EQ((*entries)[3].status, 'E');
  EXPECT_EQ((*entries)[1].revoked_at->time_since_epoch().count(), 1793534400);
}

TEST(OpensslIndex, ErrorsNameTheLine) {
  struct Case {
    const char* name;
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {"fields", "V\t271123080000Z\t\t1000\tunknown\n", "line 1: expected 6"},
      {"status",
       "V\t271123080000Z\t\t1000\tunknown\t/CN=a\nX\t271123080000Z\t\t1001\tunknown\t/CN=b\n",
       "line 2: unknown status 'X'"},
      {"time", "V\t2711\t\t1000\tunknown\t/CN=a\n", "line 1: invalid expiry time"},
      {"reason", "R\t271123080000Z\t261101120000Z,stolen\t1000\tunknown\t/CN=a\n",
       "line 1: unknown revocation reason 'stolen'"},
      {"serial", "V\t271123080000Z\t\tXYZ\tunknown\t/CN=a\n", "line 1: invalid serial"},
      {"duplicate",
       "V\t271123080000Z\t\t10\tunknown\t/CN=a\nV\t271123080000Z\t\t10\tunknown\t/CN=b\n",
       "line 2: serial 10 appears twice"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parse_openssl_index(c.text, "index.txt");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("'index.txt' " + std::string(c.want)), std::string::npos)
        << r.error().message;
  }
}

TEST(OpensslIndex, CrlNumberFileIsHex) {
  EXPECT_EQ(*parse_openssl_number("1000\n", "crlnumber"), 4096);
  EXPECT_FALSE(parse_openssl_number("zz\n", "crlnumber"));
}

}  // namespace
}  // namespace ck::ca
