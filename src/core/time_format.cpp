#include "core/time_format.h"

#include <cstdio>
#include <ctime>

#include <openssl/err.h>

namespace ck {

std::string format_iso8601(Seconds t) {
  const std::time_t tt = t.time_since_epoch().count();
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
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
