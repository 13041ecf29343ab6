// --log-format strings themselves: the first line is compiled as a format,
// the lines after it are read under it.

#include "log_match.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = ck::fuzz::text(data, size);
  const auto nl = in.find('\n');
  const auto format = ck::observe::LogFormat::compile(in.substr(0, nl));
  if (format && nl != std::string_view::npos)
    ck::fuzz::match_lines(*format, in.substr(nl + 1));
  return 0;
}
