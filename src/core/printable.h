#pragma once
// Text from outside (a file name, a CSV field, a server's reply) ends up in
// error lines. On a terminal, a control character in it can rewrite the
// screen (ESC sequences), a newline can forge a second "certkeeper: ..."
// line, and a 100,000-character value buries the message; this makes any
// text one safe, readable line.

#include <cstddef>
#include <string>
#include <string_view>

namespace ck {

/// The longest line printable_line() returns, give or take the marker.
inline constexpr std::size_t kMaxPrintedLine = 2000;

/// `text` as one line: control characters (C0, DEL, C1), bytes that are not
/// UTF-8, and bidirectional-override and line-separator characters are shown
/// escaped (\n, \r, \t, \x1b, \xff, \u202e); text longer than `max` bytes
/// (after escaping) keeps its start and end around " ... (N more bytes) ... ".
[[nodiscard]] std::string printable_line(std::string_view text, std::size_t max = kMaxPrintedLine);

}  // namespace ck
