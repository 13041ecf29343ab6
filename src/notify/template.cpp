#include "notify/template.h"

#include <kainjow/mustache.hpp>

namespace ck::notify {

Result<std::string> render(const std::string& text, const Variables& vars, const std::string& what,
                           Escape escape) {
  kainjow::mustache::mustache tmpl(text);
  if (!tmpl.is_valid()) {
    return fail(Code::InvalidArgument, what + ": invalid template: " + tmpl.error_message());
  }
  if (escape == Escape::None) {
    tmpl.set_custom_escape([](const std::string& s) { return s; });
  }
  kainjow::mustache::data data;
  for (const auto& [k, v] : vars)
    data.set(k, v);
  return tmpl.render(data);
}

Result<std::vector<std::string>> render_argv(const std::vector<std::string>& argv,
                                             const Variables& vars, const std::string& what) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const auto& arg : argv) {
    CK_ASSIGN(auto rendered, render(arg, vars, what));
    out.push_back(std::move(rendered));
  }
  return out;
}

}  // namespace ck::notify
