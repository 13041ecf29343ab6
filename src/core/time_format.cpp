#include "core/time_format.h"

#include <cstdio>
#include <ctime>

#include <openssl/err.h>

namespace ck {

std::string format_iso8601(Seconds t) {
  // Calendar arithmetic and plain digits, not gmtime_r+strftime or snprintf:
  // listings format two times per certificate, for up to a million of them.
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  std::string out = "0000-00-00T00:00:00Z";
  auto put = [&out](std::size_t at, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, static_cast<unsigned>(hms.hours().count()), 2);
  put(14, static_cast<unsigned>(hms.minutes().count()), 2);
  put(17, static_cast<unsigned>(hms.seconds().count()), 2);
  return out;
}

Result<Seconds> parse_iso8601(std::string_view text) {
  std::tm tm{};
  const std::string s(text);
  const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') {
    return fail(Code::InvalidArgument, "invalid time '" + s + "' (use 2026-01-31T12:00:00Z)");
  }
  return Seconds(std::chrono::seconds(::timegm(&tm)));
}

Result<Seconds> from_asn1_time(const ASN1_TIME& t) {
  std::tm tm{};
  if (::ASN1_TIME_to_tm(&t, &tm) != 1) {
    ::ERR_clear_error();
    return fail(Code::InvalidArgument, "invalid X.509 time");
  }
  return Seconds(std::chrono::seconds(::timegm(&tm)));
}

}  // namespace ck
