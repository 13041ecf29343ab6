// Access-log lines under certkeeper's documented nginx log_format.

#include "log_match.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto format = ck::observe::LogFormat::compile(ck::observe::kDefaultLogFormat);
  CK_ASSERT(format.has_value());
  ck::fuzz::match_lines(*format, ck::fuzz::text(data, size));
  return 0;
}
