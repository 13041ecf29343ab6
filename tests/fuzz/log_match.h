#pragma once
// Access-log lines read under one compiled format (observe/log_format.h);
// shared by the log_* fuzz targets.

#include <cctype>

#include "fuzz_input.h"
#include "observe/log_format.h"

namespace ck::fuzz {

inline void match_lines(const observe::LogFormat& format, std::string_view input) {
  for (const auto line : lines(input)) {
    const auto m = format.match(line);
    if (!m.sighting)
      continue;
    // A sighting is only ever a matched line with a hex serial.
    CK_ASSERT(m.matched);
    const auto& serial = m.sighting->serial_hex;
    CK_ASSERT(!serial.empty());
    for (const char c : serial)
      CK_ASSERT(std::isxdigit(static_cast<unsigned char>(c)) != 0);
  }
}

}  // namespace ck::fuzz
