#include "core/argv_template.h"

#include <kainjow/mustache.hpp>

namespace ck {

Result<std::vector<std::string>> render_argv(const std::vector<std::string>& argv,
                                             const Variables& vars, const std::string& what) {
  kainjow::mustache::data data;
  for (const auto& [k, v] : vars) {
    if (!v.empty())  // kainjow treats any string, even "", as true in a section
      data.set(k, v);
  }
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const auto& arg : argv) {
    kainjow::mustache::mustache tmpl(arg);
    if (!tmpl.is_valid())
      return fail(Code::InvalidArgument, what + ": invalid template: " + tmpl.error_message());
    tmpl.set_custom_escape([](const std::string& s) { return s; });
    std::string rendered = tmpl.render(data);
    if (!tmpl.is_valid())
      return fail(Code::InvalidArgument, what + ": " + tmpl.error_message());
    out.push_back(std::move(rendered));
  }
  return out;
}

}  // namespace ck
