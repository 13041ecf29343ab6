#include "core/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ck {
namespace {

using Type = PrometheusText::Type;

// The one sample line of a family holding one sample.
std::string one(double value) {
  PrometheusText m;
  m.family("x", Type::Gauge, "h");
  m.sample(value);
  const std::string& t = m.text();
  const auto start = t.rfind("\nx ") + 3;
  return t.substr(start, t.size() - start - 1);
}

TEST(PrometheusText, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(prometheus_label_value(R"(a\b"c)"
                                   "\nd"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(prometheus_label_value("plain {braces}, commas=ok"), "plain {braces}, commas=ok");
  PrometheusText m;
  m.family("x", Type::Gauge, "h");
  m.sample({{"user", "o\"brien\n"}}, 1);
  EXPECT_NE(m.text().find(R"(x{user="o\"brien\n"} 1)"), std::string::npos) << m.text();
}

TEST(PrometheusText, HelpEscapesBackslashAndNewlineOnly) {
  PrometheusText m;
  m.family("certkeeper_x", Type::Counter, "a \\ b\nc \"q\"");
  EXPECT_EQ(m.text(), "# HELP certkeeper_x a \\\\ b\\nc \"q\"\n# TYPE certkeeper_x counter\n");
}

TEST(PrometheusText, FamilyThenSamplesInOrder) {
  PrometheusText m;
  m.family("a", Type::Gauge, "first");
  m.sample({{"k", "1"}, {"j", "2"}}, 3);
  m.sample(4);
  m.family("b", Type::Counter, "second");
  m.sample(5);
  EXPECT_EQ(m.take(),
            "# HELP a first\n# TYPE a gauge\na{k=\"1\",j=\"2\"} 3\na 4\n"
            "# HELP b second\n# TYPE b counter\nb 5\n");
}

TEST(PrometheusText, ASecondSampleOfTheSameSeriesIsDropped) {
  PrometheusText m;
  m.family("x", Type::Gauge, "h");
  m.sample({{"endpoint", "a:443"}}, 1);
  m.sample({{"endpoint", "a:443"}}, 0);  // same series, other value: the first stays
  m.sample({{"endpoint", "b:443"}}, 1);
  m.sample({{"endpoint", "a:443"}, {"plan", "p"}}, 1);  // other labels: another series
  EXPECT_EQ(m.duplicates(), 1);
  EXPECT_EQ(m.text(),
            "# HELP x h\n# TYPE x gauge\nx{endpoint=\"a:443\"} 1\nx{endpoint=\"b:443\"} 1\n"
            "x{endpoint=\"a:443\",plan=\"p\"} 1\n");
}

TEST(PrometheusText, SameLabelsInAnotherFamilyAreNoDuplicate) {
  PrometheusText m;
  m.family("x", Type::Gauge, "h");
  m.sample({{"k", "v"}}, 1);
  m.family("y", Type::Gauge, "h");
  m.sample({{"k", "v"}}, 1);
  EXPECT_EQ(m.duplicates(), 0);
}

TEST(PrometheusText, IntegersAndTimestampsInFull) {
  EXPECT_EQ(one(0), "0");
  EXPECT_EQ(one(1), "1");
  EXPECT_EQ(one(-3), "-3");
  EXPECT_EQ(one(1796194116), "1796194116");  // a notAfter: never 1.796e+09
  EXPECT_EQ(one(4102444800.0), "4102444800");
}

TEST(PrometheusText, FractionsInTheirShortestExactForm) {
  EXPECT_EQ(one(0.5), "0.5");
  EXPECT_EQ(one(0.1), "0.1");
  EXPECT_EQ(one(0.0036365870000000002), "0.003636587");
  EXPECT_EQ(std::stod(one(2.0 / 3)), 2.0 / 3);  // round-trips exactly
  EXPECT_EQ(std::stod(one(1e300)), 1e300);
}

TEST(PrometheusText, NanAndInfinities) {
  EXPECT_EQ(one(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(one(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(one(-std::numeric_limits<double>::infinity()), "-Inf");
}

}  // namespace
}  // namespace ck
