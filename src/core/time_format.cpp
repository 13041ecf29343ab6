#include "core/time_format.h"

#include <cstdio>
#include <ctime>

#include <openssl/err.h>

namespace ck {

std::string format_iso8601(Seconds t) {
  // Calendar arithmetic, not gmtime_r+strftime: listings format two times
  // per certificate, for up to hundreds of thousands of certificates.
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
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
