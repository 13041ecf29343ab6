#include <gtest/gtest.h>

#include "cli/render.h"

namespace ck::cli {
namespace {

ca::CertView view() {
  ca::CertView v;
  v.user = "alice";
  v.serial_hex = "0A1B2C3D4E5F60718293A4B5C6D7E8F9";
  v.not_before = Seconds{std::chrono::seconds{1'700'000'000}};
  v.not_after = Seconds{std::chrono::seconds{1'731'536'000}};
  v.status = "active";
  v.delivery = "delivered";
  return v;
}

std::string fast(const ca::CertView& v) {
  std::string out;
  append_json(out, v);
  return out;
}

TEST(AppendJson, SameBytesAsTheJsonObject) {
  auto v = view();
  EXPECT_EQ(fast(v), to_json(v).dump());
  v.ticket = "T123";
  v.revocation = "held";
  v.reason = "superseded";
  v.superseded_by_hex = "FF00";
  EXPECT_EQ(fast(v), to_json(v).dump());
  v.superseded_by_hex.reset();
  EXPECT_EQ(fast(v), to_json(v).dump());
}

TEST(AppendJson, EscapesWhatNeedsIt) {
  auto v = view();
  v.user = "Zoë \"zo\" O'Brien\\x";
  v.ticket = std::string("tab\there\x01", 10);
  EXPECT_EQ(fast(v), to_json(v).dump());
  const auto parsed = nlohmann::json::parse(fast(v));
  EXPECT_EQ(parsed.at("user"), v.user);
  EXPECT_EQ(parsed.at("ticket"), v.ticket);
}

TEST(AppendJson, AppendsToWhatIsThere) {
  std::string out = "[";
  append_json(out, view());
  EXPECT_EQ(out, "[" + to_json(view()).dump());
}

}  // namespace
}  // namespace ck::cli
