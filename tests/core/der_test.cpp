#include "core/der.h"

#include <gtest/gtest.h>

namespace ck {
namespace {

TEST(Der, LengthsRoundTripAcrossEncodingSizes) {
  for (std::size_t len : {0u, 1u, 127u, 128u, 255u, 256u, 65535u, 65536u, 1u << 24}) {
    SCOPED_TRACE(len);
    std::string out;
    der::put_tlv(out, der::kOctetString, std::string(len, 'x'));
    EXPECT_EQ(out.size(), der::header_size(len) + len);
    der::Reader r(out);
    auto tlv = r.next();
    ASSERT_TRUE(tlv);
    EXPECT_EQ(tlv->content.size(), len);
    EXPECT_TRUE(r.empty());
  }
}

TEST(Der, IntegersArePositiveAndMinimal) {
  std::string out;
  der::put_unsigned_integer(out, std::string("\x00\x00\x80", 3));
  EXPECT_EQ(out, std::string("\x02\x02\x00\x80", 4));
  out.clear();
  der::put_small_integer(out, 1);
  EXPECT_EQ(out, std::string("\x02\x01\x01", 3));
}

TEST(Der, TimesSwitchToGeneralizedIn2050) {
  std::string utc, gen;
  der::put_time(utc, Seconds(std::chrono::seconds(2524607999)));  // 2049-12-31T23:59:59Z
  der::put_time(gen, Seconds(std::chrono::seconds(2524608000)));  // 2050-01-01T00:00:00Z
  EXPECT_EQ(static_cast<std::uint8_t>(utc[0]), der::kUtcTime);
  EXPECT_EQ(static_cast<std::uint8_t>(gen[0]), der::kGeneralizedTime);
  der::Reader r1(utc), r2(gen);
  EXPECT_EQ(der::parse_time(*r1.next())->time_since_epoch().count(), 2524607999);
  EXPECT_EQ(der::parse_time(*r2.next())->time_since_epoch().count(), 2524608000);
}

TEST(Der, TruncatedAndNonMinimalLengthsAreErrors) {
  der::Reader truncated(std::string_view("\x30\x05\x01", 3));
  EXPECT_FALSE(truncated.next());
  der::Reader non_minimal(std::string_view("\x04\x81\x05hello", 8));
  EXPECT_FALSE(non_minimal.next());
  der::Reader indefinite(std::string_view("\x30\x80\x00\x00", 4));
  EXPECT_FALSE(indefinite.next());
}

}  // namespace
}  // namespace ck

namespace ck {
namespace {

TEST(Der, TimeBoundariesAndInvalidDates) {
  std::string t1950;
  der::put_time(t1950, Seconds(std::chrono::seconds(-631152000)));  // 1950-01-01T00:00:00Z
  EXPECT_EQ(t1950.substr(2), "500101000000Z");
  der::Reader r(t1950);
  EXPECT_EQ(der::parse_time(*r.next())->time_since_epoch().count(), -631152000);
  for (const char* bad : {"230230000000Z", "231301000000Z", "230101250000Z", "2301010000000"}) {
    SCOPED_TRACE(bad);
    std::string tlv;
    der::put_tlv(tlv, der::kUtcTime, bad);
    der::Reader rb(tlv);
    EXPECT_FALSE(der::parse_time(*rb.next()));
  }
}

}  // namespace
}  // namespace ck
