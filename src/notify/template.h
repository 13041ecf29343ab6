#pragma once
// Mustache templates (kainjow-mustache) for messages, URLs and command lines.

#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace ck::notify {

using Variables = std::map<std::string, std::string>;

enum class Escape { None, Html };

/// Renders `text` with `vars`; a malformed template is an error naming `what`.
[[nodiscard]] Result<std::string> render(const std::string& text, const Variables& vars,
                                         const std::string& what, Escape escape = Escape::None);

/// Renders every element of an argv template (no shell, no escaping: each
/// variable becomes part of exactly one argument).
[[nodiscard]] Result<std::vector<std::string>> render_argv(const std::vector<std::string>& argv,
                                                           const Variables& vars,
                                                           const std::string& what);

}  // namespace ck::notify
