#include "core/join.h"

namespace ck {

std::string join(const std::vector<std::string>& words, std::string_view sep) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty())  // empty words at the start add no separator
      out += sep;
    out += w;
  }
  return out;
}

}  // namespace ck
