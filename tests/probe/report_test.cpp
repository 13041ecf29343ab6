#include <gtest/gtest.h>

#include "probe/report.h"

namespace ck::probe {
namespace {

ProbeResult good() {
  ProbeResult r;
  r.target = Target{"web:443", "web", 443, "web", ""};
  r.address = "192.0.2.1";
  r.ok = true;
  r.phase = Phase::Done;
  r.tls_version = "TLSv1.3";
  r.not_after = Seconds{std::chrono::seconds{1'800'000'000}};
  r.days_left = 42;
  r.verified = true;
  r.hostname_match = true;
  r.elapsed_ms = 12.345;
  return r;
}

TEST(ProbeJson, FieldsInOrderAndNullsOnFailure) {
  const auto j = to_json(good());
  EXPECT_EQ(j.begin().key(), "target");
  EXPECT_EQ(j.at("not_after"), "2027-01-15T08:00:00Z");
  EXPECT_EQ(j.at("error"), nullptr);
  EXPECT_EQ(j.at("verify_error"), nullptr);
  EXPECT_EQ(j.at("elapsed_ms"), 12.3);
  ProbeResult bad;
  bad.target = Target{"10.0.0.1:1", "10.0.0.1", 1, "", ""};
  bad.error = "connection refused";
  bad.phase = Phase::Connect;
  const auto f = to_json(bad);
  EXPECT_EQ(f.at("ok"), false);
  EXPECT_EQ(f.at("phase"), "connect");
  EXPECT_EQ(f.at("sni"), nullptr);
  EXPECT_EQ(f.at("sha256"), nullptr);
  EXPECT_EQ(f.size(), j.size());  // the same fields either way
}

TEST(ProbePrometheus, OneSamplePerTargetAndEscapedLabels) {
  std::vector<ProbeResult> rs{good(), ProbeResult{}};
  rs[1].target = Target{"a\"b\\c:1", "x", 1, "", ""};
  const auto text = to_prometheus(rs);
  EXPECT_NE(text.find("certkeeper_probe_success{target=\"web:443\",sni=\"web\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("certkeeper_probe_success{target=\"a\\\"b\\\\c:1\",sni=\"\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("certkeeper_probe_cert_not_after_seconds{target=\"web:443\",sni=\"web\"} "
                      "1800000000\n"),
            std::string::npos);
  // No certificate metrics for a failed target.
  EXPECT_EQ(text.find("certkeeper_probe_cert_days_left{target=\"a"), std::string::npos);
}

}  // namespace
}  // namespace ck::probe
