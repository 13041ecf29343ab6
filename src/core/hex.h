#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ck {

/// Uppercase hex without separators ("0A1B").
[[nodiscard]] std::string to_hex(std::span<const std::uint8_t> bytes);
[[nodiscard]] std::string to_hex(std::string_view bytes);
/// Parses hex (either case, optional ':' separators); nullopt if malformed.
[[nodiscard]] std::optional<std::string> from_hex(std::string_view hex);
/// The value of one hex digit (either case), -1 for anything else.
[[nodiscard]] int hex_digit_value(char c);

}  // namespace ck
