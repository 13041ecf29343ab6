#include "servercert/due.h"

#include <gtest/gtest.h>

namespace ck::servercert {
namespace {

using std::chrono::days;

const Seconds kIssued{std::chrono::seconds(1'800'000'000)};

TEST(RenewalDue, AThirdOfTheLifetimeByDefault) {
  // 90 days: due after 60; 6 days: due after 4.
  EXPECT_FALSE(renewal_due(kIssued, kIssued + days(90), kIssued + days(59), {}, {}).due);
  const auto d = renewal_due(kIssued, kIssued + days(90), kIssued + days(60), {}, {});
  EXPECT_TRUE(d.due);
  EXPECT_EQ(d.at, kIssued + days(60));
  EXPECT_FALSE(renewal_due(kIssued, kIssued + days(6), kIssued + days(3), {}, {}).due);
  EXPECT_TRUE(renewal_due(kIssued, kIssued + days(6), kIssued + days(4), {}, {}).due);
}

TEST(RenewalDue, BeforeOverridesTheLifetimeRule) {
  const auto before = std::optional<std::chrono::seconds>(days(10));
  EXPECT_FALSE(renewal_due(kIssued, kIssued + days(90), kIssued + days(61), {}, before).due);
  EXPECT_FALSE(renewal_due(kIssued, kIssued + days(90), kIssued + days(79), {}, before).due);
  const auto d = renewal_due(kIssued, kIssued + days(90), kIssued + days(80), {}, before);
  EXPECT_TRUE(d.due);
  EXPECT_EQ(d.reason, "10d before expiry (--before)");
}

TEST(RenewalDue, TheServersWindowWinsOverEverything) {
  // A revoked-early certificate: the server moves the window into the past.
  const RenewalWindow early{kIssued + days(1), kIssued + days(2)};
  const auto before = std::optional<std::chrono::seconds>(days(1));
  const auto d = renewal_due(kIssued, kIssued + days(90), kIssued + days(1), early, before);
  EXPECT_TRUE(d.due);
  EXPECT_NE(d.reason.find("renewal window"), std::string::npos);
  const RenewalWindow late{kIssued + days(80), kIssued + days(82)};
  EXPECT_FALSE(renewal_due(kIssued, kIssued + days(90), kIssued + days(70), late, {}).due);
}

}  // namespace
}  // namespace ck::servercert
