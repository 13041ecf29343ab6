#pragma once
// Configured command lines with {{variables}}: a deploy command, a hook, an
// SMS gateway's CLI. Mustache (kainjow) without escaping, and without a shell:
// each variable becomes part of exactly one argument.

#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace ck {

/// Values for {{name}}; an empty value counts as absent, so a section
/// {{#name}}…{{/name}} shows only when the value is not empty.
using Variables = std::map<std::string, std::string>;

/// Renders every element of an argv template; a malformed template is an
/// error naming `what`.
[[nodiscard]] Result<std::vector<std::string>> render_argv(const std::vector<std::string>& argv,
                                                           const Variables& vars,
                                                           const std::string& what);

}  // namespace ck
