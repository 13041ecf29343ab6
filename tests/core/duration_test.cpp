#include "core/duration.h"

#include <gtest/gtest.h>

namespace ck {
namespace {

TEST(Duration, ParsesEveryUnit) {
  struct Case {
    const char* text;
    long long seconds;
  };
  const Case cases[] = {{"90d", 90 * 86400}, {"14", 14 * 86400}, {"36h", 36 * 3600},
                        {"30m", 1800},       {"45s", 45},        {"10y", 3650LL * 86400},
                        {"2w", 14 * 86400}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto d = parse_duration(c.text);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->count(), c.seconds);
  }
}

TEST(Duration, RejectsMalformedWithTheInputInTheMessage) {
  for (const char* bad : {"", "d", "-3d", "0d", "3x", "3dd", "1.5d", "99999999y"}) {
    SCOPED_TRACE(bad);
    auto d = parse_duration(bad);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, Code::InvalidArgument);
    EXPECT_NE(d.error().message.find("'" + std::string(bad) + "'"), std::string::npos);
  }
}

TEST(Duration, FormatsTheShortestExactForm) {
  EXPECT_EQ(format_duration(std::chrono::seconds(14 * 86400)), "14d");
  EXPECT_EQ(format_duration(std::chrono::seconds(36 * 3600)), "36h");
  EXPECT_EQ(format_duration(std::chrono::seconds(90)), "90s");
}

TEST(Duration, RoughFormIsTheLargestUnitRounded) {
  EXPECT_EQ(format_duration_rough(std::chrono::seconds(4 * 86400 - 1)), "about 4d");
  EXPECT_EQ(format_duration_rough(std::chrono::seconds(3 * 3600 + 1700)), "about 3h");
  EXPECT_EQ(format_duration_rough(std::chrono::seconds(3543)), "about 59m");
  EXPECT_EQ(format_duration_rough(std::chrono::seconds(42)), "42s");
}

}  // namespace
}  // namespace ck
