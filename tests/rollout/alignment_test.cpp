#include "rollout/alignment.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace ck::rollout {
namespace {

probe::ProbeResult served(bool verified, bool name_match, const std::string& sni) {
  probe::ProbeResult r;
  r.ok = true;
  r.target.sni = sni;
  r.verified = verified;
  r.verify_error = verified ? "" : "unable to get local issuer certificate";
  r.hostname_match = name_match;
  return r;
}

// Aligned means a client accepts it: the plan's certificate, a chain that
// verifies (unless the target opted out), and the SNI name.
TEST(Alignment, AlignedOnlyWhenAClientAcceptsIt) {
  struct Case {
    const char* name;
    Serving serving;
    probe::ProbeResult probe;
    bool verify_chain;
    bool aligned;
    std::string chain, name_check, refusal;
  };
  probe::ProbeResult failed;
  failed.error = "connection refused";
  const Case cases[] = {
      {"full chain", Serving::New, served(true, true, "a.test"), true, true, "ok", "ok", ""},
      {"leaf without its intermediate", Serving::New, served(false, true, "a.test"), true, false,
       "unable to get local issuer certificate", "ok",
       "chain: unable to get local issuer certificate"},
      {"opted out of the chain check", Serving::New, served(false, true, "a.test"), false, true,
       "skipped", "ok", ""},
      {"another name", Serving::New, served(true, false, "b.test"), true, false, "ok", "mismatch",
       "name: the certificate is not for b.test"},
      {"opted out, another name", Serving::New, served(false, false, "b.test"), false, false,
       "skipped", "mismatch", "name: the certificate is not for b.test"},
      {"both wrong", Serving::New, served(false, false, "b.test"), true, false,
       "unable to get local issuer certificate", "mismatch",
       "chain: unable to get local issuer certificate; name: the certificate is not for b.test"},
      {"IP address without SNI", Serving::New, served(true, false, ""), true, true, "ok",
       "unchecked", ""},
      {"old certificate, trusted", Serving::Old, served(true, true, "a.test"), true, false, "ok",
       "ok", ""},
      {"probe failed", Serving::Failed, failed, true, false, "", "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const EndpointState e{"s", "t", c.probe, c.serving, c.verify_chain};
    EXPECT_EQ(e.aligned(), c.aligned);
    EXPECT_EQ(e.chain(), c.chain);
    EXPECT_EQ(e.name(), c.name_check);
    EXPECT_EQ(client_refusal(c.probe, c.verify_chain), c.refusal);
  }
}

TEST(Alignment, CountsRefusedApartFromAligned) {
  Alignment al;
  al.endpoints.push_back({"s", "a", served(true, true, "a.test"), Serving::New, true});
  al.endpoints.push_back({"s", "b", served(false, true, "a.test"), Serving::New, true});
  al.endpoints.push_back({"s", "c", served(false, true, "a.test"), Serving::Old, true});
  EXPECT_EQ(al.aligned(), 1u);
  EXPECT_EQ(al.refused(), 1u);
}

// --stage names a stage of the plan; anything else is refused before a
// single handshake (the endpoint below would refuse the connection).
TEST(Alignment, AnUnknownStageIsAnErrorBeforeAnyProbe) {
  Plan plan;
  plan.file = "/etc/certkeeper/site.toml";
  Stage canary;
  canary.name = "canary";
  Target t;
  t.name = "one";
  t.endpoints.push_back(*parse_endpoint("127.0.0.1:1"));
  canary.targets.push_back(t);
  plan.stages.push_back(canary);

  EXPECT_TRUE(check_stage(plan, ""));
  EXPECT_TRUE(check_stage(plan, "canary"));
  const auto unknown = check_stage(plan, "canry");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::InvalidArgument);
  EXPECT_EQ(unknown.error().message, "'/etc/certkeeper/site.toml' has no stage \"canry\"");

  ck::testing::FakeClock clock;
  const auto al = check_alignment(plan, PlanCertificate{}, probe::ProbeOptions{}, clock, "canry");
  ASSERT_FALSE(al);
  EXPECT_EQ(al.error().message, unknown.error().message);
}

}  // namespace
}  // namespace ck::rollout
