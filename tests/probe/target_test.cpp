#include <gtest/gtest.h>

#include <fstream>

#include "fakes/temp_dir.h"
#include "probe/target.h"

namespace ck::probe {
namespace {

Target parsed(std::string_view text, std::uint16_t port = 443) {
  auto t = parse_target(text, port);
  EXPECT_TRUE(t.has_value()) << text << ": " << (t ? "" : t.error().message);
  return t.value_or(Target{});
}

TEST(ParseTarget, HostAlonePortAndSni) {
  auto t = parsed("example.org");
  EXPECT_EQ(t.host, "example.org");
  EXPECT_EQ(t.port, 443);
  EXPECT_EQ(t.sni, "example.org");
  t = parsed("example.org:8443@other.example");
  EXPECT_EQ(t.host, "example.org");
  EXPECT_EQ(t.port, 8443);
  EXPECT_EQ(t.sni, "other.example");
  EXPECT_EQ(t.text, "example.org:8443@other.example");
  EXPECT_EQ(parsed("mail.example.org", 25).port, 25);
}

TEST(ParseTarget, AddressesSendNoSni) {
  auto t = parsed("192.0.2.7:993");
  EXPECT_EQ(t.host, "192.0.2.7");
  EXPECT_EQ(t.sni, "");
  t = parsed("[2001:db8::1]:8443");
  EXPECT_EQ(t.host, "2001:db8::1");
  EXPECT_EQ(t.port, 8443);
  EXPECT_EQ(t.sni, "");
  EXPECT_EQ(parsed("::1").host, "::1");
  EXPECT_EQ(parsed("127.0.0.1:443@localhost").sni, "localhost");
}

TEST(ParseTarget, HttpsUrl) {
  auto t = parsed("https://example.org:4443/path?q=1", 25);
  EXPECT_EQ(t.host, "example.org");
  EXPECT_EQ(t.port, 4443);
  EXPECT_EQ(t.http_path, "/path?q=1");
  EXPECT_EQ(parsed("https://example.org/").port, 443);
  EXPECT_EQ(parsed("https://example.org").http_path, "/");
  EXPECT_EQ(parsed("example.org:443").http_path, "") << "never HTTP unless asked by the URL";
}

TEST(ParseTarget, RejectsWhatIsNotATarget) {
  for (const char* bad :
       {"", "example.org:0", "example.org:65536", "example.org:https", "exa mple.org",
        "ftp://example.org", "https://example.org/a b", "https://example.org/\r\nX: y", "[::1",
        "example.org:", "host:1@", "a:b:c:d:zz"}) {
    auto t = parse_target(bad, 443);
    EXPECT_FALSE(t.has_value()) << bad;
    if (!t) {
      EXPECT_NE(t.error().message.find(std::string("'") + bad + "'"), std::string::npos)
          << t.error().message;
    }
  }
}

TEST(ReadTargetsFile, SkipsCommentsAndNamesTheLine) {
  testing::TempDir dir;
  const auto path = dir.path() / "targets";
  std::ofstream(path) << "# fleet\n\na.example\n  b.example:8443  # canary\nc.example:x\n";
  auto targets = read_targets_file(path, 443);
  ASSERT_FALSE(targets.has_value());
  EXPECT_NE(targets.error().message.find(path.string() + ":5:"), std::string::npos);
  std::ofstream(path) << "# fleet\n\na.example\n  b.example:8443  # canary\n";
  targets = read_targets_file(path, 443);
  ASSERT_TRUE(targets.has_value());
  ASSERT_EQ(targets->size(), 2u);
  EXPECT_EQ((*targets)[1].port, 8443);
}

}  // namespace
}  // namespace ck::probe
