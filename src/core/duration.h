#pragma once
// Durations as operators write them: "90d", "14d", "36h", "30m", "10y"
// (a year is 365 days); a plain number is days.

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.h"

namespace ck {

[[nodiscard]] Result<std::chrono::seconds> parse_duration(std::string_view text);
/// The shortest exact form: "14d", "36h", "90s".
[[nodiscard]] std::string format_duration(std::chrono::seconds d);

}  // namespace ck
