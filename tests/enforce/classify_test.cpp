#include "enforce/classify.h"

#include <gtest/gtest.h>

namespace ck::enforce {
namespace {

using probe::ClientVerdict;

probe::ProbeResult seen(bool requested, bool sent, ClientVerdict verdict, int status = 0) {
  probe::ProbeResult r;
  r.ok = true;
  r.client.requested = requested;
  r.client.sent = sent;
  r.client.verdict = verdict;
  r.client.http_status = status;
  return r;
}

TEST(ClassifyValid, OnlyAnAcceptedValidCanaryLetsTheRevokedOnesSpeak) {
  EXPECT_FALSE(classify_valid(seen(true, true, ClientVerdict::Accepted, 200)));
  EXPECT_EQ(classify_valid(seen(false, false, ClientVerdict::NotChecked))->state,
            Enforcement::NoClientCheck);
  EXPECT_EQ(classify_valid(seen(true, true, ClientVerdict::RefusedHttp, 400))->state,
            Enforcement::RefusesValid);
  EXPECT_EQ(classify_valid(seen(true, false, ClientVerdict::Accepted, 200))->state,
            Enforcement::RefusesValid)
      << "accepted without our certificate says nothing of the CRL";
  EXPECT_EQ(classify_valid(seen(true, true, ClientVerdict::NoAnswer))->state,
            Enforcement::RefusesValid);
  probe::ProbeResult down;
  down.error = "connection refused";
  const auto unreachable = classify_valid(down);
  ASSERT_TRUE(unreachable);
  EXPECT_EQ(unreachable->state, Enforcement::Unreachable);
  EXPECT_EQ(unreachable->detail, "connection refused");
}

TEST(ClassifyRevoked, RefusingCrlNsCanaryMeansCrlNOrNewer) {
  auto newest = classify_revoked({7, seen(true, true, ClientVerdict::RefusedHttp, 400)}, 7);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->state, Enforcement::Newest);
  EXPECT_EQ(newest->crl_number, 7);
  auto stale = classify_revoked({5, seen(true, true, ClientVerdict::RefusedAlert)}, 7);
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->state, Enforcement::Stale);
  EXPECT_EQ(stale->stale_by, 2);
  EXPECT_FALSE(classify_revoked({7, seen(true, true, ClientVerdict::Accepted, 200)}, 7))
      << "accepted: try an older canary";
}

TEST(ClassifyRevoked, NoClearAnswerIsNeverEnforcement) {
  for (const auto v : {ClientVerdict::Closed, ClientVerdict::NoAnswer, ClientVerdict::NotChecked}) {
    const auto out = classify_revoked({7, seen(true, true, v)}, 7);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->state, Enforcement::Unknown) << client_verdict_name(v);
    EXPECT_FALSE(out->crl_number);
  }
}

TEST(AcceptedAll, NamesTheCanariesTried) {
  const auto all = accepted_all({7, 6, 5});
  EXPECT_EQ(all.state, Enforcement::AcceptsRevoked);
  EXPECT_NE(all.detail.find("#7, #6, #5"), std::string::npos) << all.detail;
  EXPECT_EQ(accepted_all({}).state, Enforcement::Unknown) << "no canary: nothing known";
}

}  // namespace
}  // namespace ck::enforce
