#pragma once
// Words joined for display: a command line in a progress line, a list of
// addresses in a header.

#include <string>
#include <string_view>
#include <vector>

namespace ck {

/// `words` with `sep` between them; empty words before the first non-empty
/// one add no separator.
[[nodiscard]] std::string join(const std::vector<std::string>& words, std::string_view sep = " ");

}  // namespace ck
