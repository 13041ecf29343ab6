#include "token/key_uri.h"

#include <gtest/gtest.h>

namespace ck::token {
namespace {

TEST(KeyUri, ParsesTokenObjectAndId) {
  auto uri = parse_key_uri("pkcs11:token=ca%20token;object=ca-key;id=%01%ff;type=private");
  ASSERT_TRUE(uri) << uri.error().message;
  EXPECT_EQ(uri->token, "ca token");
  EXPECT_EQ(uri->object, "ca-key");
  EXPECT_EQ(uri->id, std::string("\x01\xff", 2));
  EXPECT_EQ(uri->text(), "pkcs11:token=ca%20token;object=ca-key;id=%01%FF");
  EXPECT_EQ(uri->private_key_text(), uri->text() + ";type=private");
}

TEST(KeyUri, TextRoundTrips) {
  KeyUri k{"t;=?/%", "o b", std::string("\0\x7f", 2)};
  auto back = parse_key_uri(k.text());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->token, k.token);
  EXPECT_EQ(back->object, k.object);
  EXPECT_EQ(back->id, k.id);
}

TEST(KeyUri, RefusesAPinWithoutRepeatingIt) {
  for (const char* text : {"pkcs11:token=t;object=o;pin-value=s3cret",
                           "pkcs11:token=t;object=o;pin-source=file:/s3cret"}) {
    auto uri = parse_key_uri(text);
    ASSERT_FALSE(uri) << text;
    EXPECT_NE(uri.error().message.find("carries a PIN"), std::string::npos);
    EXPECT_EQ(uri.error().message.find("s3cret"), std::string::npos) << uri.error().message;
  }
  auto query = parse_key_uri("pkcs11:token=t;object=o?pin-value=s3cret");
  ASSERT_FALSE(query);
  EXPECT_EQ(query.error().message.find("s3cret"), std::string::npos);
}

TEST(KeyUri, SchemeIsCaseInsensitive) {
  auto uri = parse_key_uri("PKCS11:token=t;object=o");
  ASSERT_TRUE(uri) << uri.error().message;
  EXPECT_EQ(uri->text(), "pkcs11:token=t;object=o");
}

TEST(KeyUri, AnAttributeWithoutValueIsNotRepeated) {
  auto uri = parse_key_uri("pkcs11:token=t;object=o;pin-value:4711");
  ASSERT_FALSE(uri);
  EXPECT_EQ(uri.error().message.find("4711"), std::string::npos) << uri.error().message;
}

TEST(KeyUri, RefusesWhatDoesNotNameOneKey) {
  const char* bad[] = {"pkcs11:object=o",         // no token
                       "pkcs11:token=t",          // no object
                       "pkcs11:token=;object=o",  // empty token label
                       "pkcs11:token=t;object=o;type=public",
                       "pkcs11:token=t;object=o;slot-id=3",
                       "pkcs11:token=t;object=o%4",  // cut escape
                       "pkcs11:token=t;object=o%zz",
                       "pkcs11:token=t;object",
                       "pkcs11:token=t;object=o;object=p",  // twice
                       "pkcs11:token=t;token=u;object=o",
                       "pkcs11:token=t;object=o%00p",                              // NUL in a label
                       "pkcs11:token=123456789012345678901234567890123;object=o",  // 33 chars
                       "file:/etc/key.pem"};
  for (const char* text : bad)
    EXPECT_FALSE(parse_key_uri(text)) << text;
}

}  // namespace
}  // namespace ck::token
