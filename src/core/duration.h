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
/// A span for a person to read, in its largest whole unit, rounded:
/// "about 4d", "about 3h", "about 12m", or "42s" under a minute.
[[nodiscard]] std::string format_duration_rough(std::chrono::seconds d);

}  // namespace ck
