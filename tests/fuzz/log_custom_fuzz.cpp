// Access-log lines under a site's own --log-format: nginx's combined plus the
// client certificate, with $time_local and several quoted client fields.

#include "log_match.h"

namespace {

constexpr std::string_view kCustom =
    "$remote_addr - \"$remote_user\" [$time_local] \"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\" $ssl_client_serial $ssl_client_verify "
    "$request_time";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto format = ck::observe::LogFormat::compile(kCustom);
  CK_ASSERT(format.has_value());
  ck::fuzz::match_lines(*format, ck::fuzz::text(data, size));
  return 0;
}
