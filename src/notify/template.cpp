#include "notify/template.h"

#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "net/http_client.h"

namespace ck::notify {
namespace {

#include "notify_templates.inc"

std::string json_escape(const std::string& s) {
  // dump() quotes and escapes (control characters, quotes, backslashes, and
  // invalid UTF-8 replaced rather than thrown); the template supplies quotes.
  const std::string quoted =
      nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

kainjow::mustache::data to_data(const Variables& vars) {
  kainjow::mustache::data data;
  // An empty variable is left out, so {{#ticket}}…{{/ticket}} shows only when
  // there is a ticket (kainjow treats any string, even "", as true).
  for (const auto& [k, v] : vars) {
    if (!v.empty())
      data.set(k, v);
  }
  return data;
}

}  // namespace

Result<std::string> render_context(const std::string& text, const Context& ctx,
                                   const std::string& what, Escape escape) {
  kainjow::mustache::mustache tmpl(text);
  if (!tmpl.is_valid()) {
    return fail(Code::InvalidArgument, what + ": invalid template: " + tmpl.error_message());
  }
  switch (escape) {
    case Escape::None:
      tmpl.set_custom_escape([](const std::string& s) { return s; });
      break;
    case Escape::Url:
      tmpl.set_custom_escape([](const std::string& s) { return net::percent_encode(s); });
      break;
    case Escape::Json:
      tmpl.set_custom_escape(json_escape);
      break;
    case Escape::Html:
      break;  // kainjow's default
  }
  auto data = to_data(ctx.vars);
  for (const auto& [name, items] : ctx.lists) {
    kainjow::mustache::data list{kainjow::mustache::data::type::list};
    for (const auto& item : items)
      list.push_back(to_data(item));
    data.set(name, list);
  }
  std::string out = tmpl.render(data);
  if (!tmpl.is_valid())
    return fail(Code::InvalidArgument, what + ": " + tmpl.error_message());
  return out;
}

Result<std::string> render(const std::string& text, const Variables& vars, const std::string& what,
                           Escape escape) {
  return render_context(text, Context{vars, {}}, what, escape);
}

std::vector<std::string> TemplateSet::names() {
  std::vector<std::string> out;
  for (const auto& t : kTemplates) {
    std::string name = t.name;
    out.push_back(name.substr(0, name.rfind('.')));
  }
  return out;
}

const char* TemplateSet::default_text(const std::string& name) {
  for (const auto& t : kTemplates) {
    if (name + ".mustache" == t.name)
      return t.text;
  }
  return nullptr;
}

Result<TemplateSet> TemplateSet::load(const std::optional<std::filesystem::path>& dir) {
  TemplateSet set;
  if (dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(*dir, ec)) {
      return fail(Code::NotFound, "template folder '" + dir->string() + "' does not exist");
    }
  }
  for (const auto& name : names()) {
    std::string text = default_text(name);
    std::string origin = "default";
    if (dir) {
      const auto file = *dir / (name + ".mustache");
      std::error_code ec;
      if (std::filesystem::exists(file, ec)) {
        CK_ASSIGN(text, read_file(file));
        origin = file.string();
      }
    }
    kainjow::mustache::mustache check(text);
    if (!check.is_valid()) {
      return fail(Code::InvalidArgument,
                  "template '" + origin + "' (" + name + "): " + check.error_message());
    }
    set.templates_[name] = {std::move(text), std::move(origin)};
  }
  return set;
}

const std::string& TemplateSet::text(const std::string& name) const {
  const auto it = templates_.find(name);
  CK_ASSERT(it != templates_.end());
  return it->second.first;
}

const std::string& TemplateSet::origin(const std::string& name) const {
  const auto it = templates_.find(name);
  CK_ASSERT(it != templates_.end());
  return it->second.second;
}

}  // namespace ck::notify
