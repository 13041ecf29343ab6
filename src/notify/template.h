#pragma once
// Mustache templates (kainjow-mustache) for messages, URLs and command lines.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/argv_template.h"
#include "core/error.h"

namespace ck::notify {

/// The same variables as a command line's (core/argv_template.h).
using Variables = ck::Variables;

/// Variables plus named lists for {{#name}}…{{/name}} sections (the digest's
/// certificates).
struct Context {
  Variables vars;
  std::map<std::string, std::vector<Variables>> lists;
};

/// How {{var}} is escaped ({{{var}}} never is): not at all (mail text, argv),
/// for HTML, as URL query data (RFC 3986), or as JSON string content.
enum class Escape { None, Html, Url, Json };

/// Renders `text`; a malformed template is an error naming `what`.
[[nodiscard]] Result<std::string> render_context(const std::string& text, const Context& ctx,
                                                 const std::string& what,
                                                 Escape escape = Escape::None);
[[nodiscard]] Result<std::string> render(const std::string& text, const Variables& vars,
                                         const std::string& what, Escape escape = Escape::None);

/// The message templates of `notify`: the shipped defaults (src/notify/templates),
/// each replaced by NAME.mustache from an override folder when that file exists.
class TemplateSet {
 public:
  /// Loads the defaults and the overrides in `dir` (if given); every template
  /// is checked, so a typo fails before anything is sent.
  [[nodiscard]] static Result<TemplateSet> load(const std::optional<std::filesystem::path>& dir);
  /// Names of the shipped templates ("email_subject", ...).
  [[nodiscard]] static std::vector<std::string> names();
  /// The text of a shipped default.
  [[nodiscard]] static const char* default_text(const std::string& name);

  [[nodiscard]] const std::string& text(const std::string& name) const;
  /// Where `name` came from: "default" or the override file's path.
  [[nodiscard]] const std::string& origin(const std::string& name) const;

 private:
  std::map<std::string, std::pair<std::string, std::string>> templates_;  // name → text, origin
};

}  // namespace ck::notify
