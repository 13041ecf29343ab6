#pragma once
// The names certkeeper keeps and puts into file names, folder names and
// command lines: users, server certificates.

#include <string_view>

namespace ck {

/// What a valid name looks like, for error messages.
inline constexpr std::string_view kNameRule =
    "use 1-64 letters, digits, '.', '_', '-' or '@', not starting with '-' or '.'";

/// 1-64 ASCII letters, digits, '.', '_', '-' or '@', not starting with '-'
/// (an option) or '.' (a hidden file, "..").
[[nodiscard]] bool valid_name(std::string_view name);

}  // namespace ck
