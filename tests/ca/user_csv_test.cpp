#include "ca/user_csv.h"

#include <gtest/gtest.h>

namespace ck::ca {
namespace {

TEST(UserCsv, ParsesQuotedFieldsInAnyColumnOrder) {
  auto rows = parse_user_csv(
      "email,user,cn,country\r\n"
      "a@example.org,alice,\"Doe, \"\"Al\"\" Alice\",DE\r\n"
      "\n"
      "b@example.org,bob,Bob,\n",
      "u.csv");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].name, "alice");
  EXPECT_EQ((*rows)[0].cn, "Doe, \"Al\" Alice");
  EXPECT_EQ((*rows)[0].country, "DE");
  EXPECT_EQ((*rows)[1].email, "b@example.org");
}

// Excel's "CSV UTF-8" export begins with a byte order mark; line numbers
// still count from the header.
TEST(UserCsv, AByteOrderMarkIsSkipped) {
  auto rows = parse_user_csv("\xEF\xBB\xBFuser,cn,email\r\nmueller,M\xC3\xBCller,m@example.org\r\n",
                             "u.csv");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].cn, "M\xC3\xBCller");
  auto bad = parse_user_csv("\xEF\xBB\xBFuser,cn,email\na,A,nope\n", "u.csv");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 2: invalid email"), std::string::npos);
}

TEST(UserCsv, ErrorsNameTheFileAndLine) {
  struct Case {
    const char* name;
    std::string text;
    const char* want;
  };
  const Case cases[] = {
      {"unknown column", "user,cn,mail\n", "line 1: unknown column 'mail'"},
      {"missing column", "user,cn\n", "line 1: missing column 'email'"},
      {"field count", "user,cn,email\na,A\n", "line 2: 2 fields"},
      {"bad email", "user,cn,email\na,A,a@example.org\nb,B,nope\n", "line 3: invalid email 'nope'"},
      {"duplicate", "user,cn,email\na,A,a@example.org\na,A,a@example.org\n",
       "line 3: user 'a' appears twice"},
      {"unterminated", "user,cn,email\na,\"A,a@example.org\n", "line 2: unterminated"},
      {"not UTF-8", "user,cn,email\na,A,a@example.org\nb,B\xff,b@example.org\n",
       "line 3: invalid cn 'B\\xff': not valid UTF-8"},
      {"overlong UTF-8", "user,cn,email\na,\xc0\xaf,a@example.org\n", "line 2: invalid cn"},
      {"org beyond RFC 5280",
       "user,cn,email,org\na,A,a@example.org,\"" + std::string(65, 'O') + "\"\n",
       "line 2: invalid org"},
      {"non-ASCII email", "user,cn,email\na,A,\xc3\xa4@example.org\n", "line 2: invalid email"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto rows = parse_user_csv(c.text, "u.csv");
    ASSERT_FALSE(rows);
    EXPECT_NE(rows.error().message.find("'u.csv' " + std::string(c.want)), std::string::npos)
        << rows.error().message;
  }
}

}  // namespace
}  // namespace ck::ca
