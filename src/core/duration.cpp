#include "core/duration.h"

#include <charconv>
#include <limits>

namespace ck {

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  auto bad = [&] {
    return fail(
        Code::InvalidArgument,
        "invalid duration '" + std::string(text) +
            "' (write a number and a unit: 30s, 30m, 36h, 14d, 10y; a plain number is days)");
  };
  if (text.empty()) {
    return bad();
  }
  long long value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || value <= 0) {
    return bad();
  }
  const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  long long scale = 0;
  if (unit.empty() || unit == "d") {
    scale = 86400;
  } else if (unit == "s") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else if (unit == "w") {
    scale = 7 * 86400;
  } else if (unit == "y") {
    scale = 365 * 86400;
  } else {
    return bad();
  }
  // 1000 years is beyond any certificate; refuse instead of overflowing.
  if (value > 1000LL * 365 * 86400 / scale) {
    return bad();
  }
  return std::chrono::seconds(value * scale);
}

std::string format_duration(std::chrono::seconds d) {
  const long long s = d.count();
  if (s != 0 && s % 86400 == 0)
    return std::to_string(s / 86400) + "d";
  if (s != 0 && s % 3600 == 0)
    return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0)
    return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string format_duration_rough(std::chrono::seconds d) {
  const long long s = d.count();
  const long long magnitude = s < 0 ? -s : s;
  const auto rounded = [&](long long unit, const char* suffix) {
    return "about " + std::to_string((s + (s < 0 ? -unit : unit) / 2) / unit) + suffix;
  };
  if (magnitude >= 86400)
    return rounded(86400, "d");
  if (magnitude >= 3600)
    return rounded(3600, "h");
  if (magnitude >= 60)
    return rounded(60, "m");
  return std::to_string(s) + "s";
}

}  // namespace ck
