#include "core/toml_section.h"

#include "core/duration.h"

namespace ck {

std::string toml_where(const std::filesystem::path& path, const toml::source_region& src) {
  return "'" + path.string() + "' line " + std::to_string(src.begin.line);
}

Result<toml::table> parse_toml_file(const std::filesystem::path& path, std::string_view text) {
  try {
    return toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    return fail(Code::InvalidArgument,
                toml_where(path, e.source()) + ": " + std::string(e.description()));
  }
}

Status check_toml_keys(const std::filesystem::path& path, const toml::table& table,
                       const std::string& prefix, const std::set<std::string>& allowed) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (!allowed.contains(name) && (name == "password" || name == "token")) {
      return fail(Code::InvalidArgument,
                  toml_where(path, key.source()) + ": '" + prefix + name +
                      "': secrets are not read from the config text; name a 0600 file with '" +
                      name + "_file' or set the environment variable (docs/configuration.md)");
    }
    if (!allowed.contains(name)) {
      return fail(Code::InvalidArgument,
                  toml_where(path, key.source()) + ": unknown key '" + prefix + name + "'");
    }
  }
  return {};
}

std::string TomlSection::where(const char* key) const {
  if (table_ == nullptr)
    return "'" + path_.string() + "'";
  if (key != nullptr) {
    if (const auto* node = table_->get(key))
      return toml_where(path_, node->source());
  }
  return toml_where(path_, table_->source());
}

template <class T>
Result<std::optional<T>> TomlSection::typed(const char* key, const char* what) const {
  const auto* node = table_ ? table_->get(key) : nullptr;
  if (node == nullptr)
    return std::optional<T>();
  const auto value = node->value<T>();
  if (!value)
    return fail(wrong_at(node, key, what));
  return std::optional<T>(*value);
}

Result<std::optional<std::string>> TomlSection::string(const char* key) const {
  return typed<std::string>(key, "a string");
}

Result<std::optional<std::vector<std::string>>> TomlSection::string_array(const char* key) const {
  const auto* node = table_ ? table_->get(key) : nullptr;
  if (node == nullptr)
    return std::optional<std::vector<std::string>>();
  const auto* arr = node->as_array();
  if (arr == nullptr || arr->empty())
    return fail(wrong_at(node, key, "a non-empty array of strings"));
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    const auto value = item.value<std::string>();
    if (!value)
      return fail(wrong_at(&item, key, "a non-empty array of strings"));
    out.push_back(*value);
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<std::chrono::seconds>> TomlSection::duration(const char* key) const {
  CK_ASSIGN(const auto text, string(key));
  if (!text)
    return std::optional<std::chrono::seconds>();
  auto d = parse_duration(*text);
  if (!d)
    return fail(wrong_at(table_->get(key), key, "a duration such as \"30s\" or \"2d\""));
  return std::optional<std::chrono::seconds>(*d);
}

Result<std::optional<bool>> TomlSection::boolean(const char* key) const {
  return typed<bool>(key, "true or false");
}

Result<std::optional<std::string>> TomlSection::choice(
    const char* key, const std::vector<std::string>& choices) const {
  CK_ASSIGN(auto value, string(key));
  if (!value)
    return value;
  std::string list;
  for (const auto& c : choices) {
    if (*value == c)
      return value;
    list += (list.empty() ? "" : ", ") + c;
  }
  return fail(wrong_at(table_->get(key), key, "one of " + list));
}

Result<std::optional<std::string>> TomlSection::url(const char* key,
                                                    const std::vector<std::string>& schemes) const {
  CK_ASSIGN(auto value, string(key));
  if (!value)
    return value;
  std::string list;
  for (const auto& scheme : schemes) {
    if (value->starts_with(scheme + "://") && value->size() > scheme.size() + 3)
      return value;
    list += (list.empty() ? "" : " or ") + scheme + "://";
  }
  return fail(wrong_at(table_->get(key), key, "a URL starting with " + list));
}

Result<std::optional<std::int64_t>> TomlSection::positive_integer(const char* key) const {
  CK_ASSIGN(auto value, typed<std::int64_t>(key, "a positive integer"));
  if (value && *value <= 0)
    return fail(wrong_at(table_->get(key), key, "a positive integer"));
  return value;
}

Result<std::optional<std::filesystem::path>> TomlSection::path(const char* key) const {
  CK_ASSIGN(const auto text, string(key));
  if (!text)
    return std::optional<std::filesystem::path>();
  if (text->empty())
    return fail(wrong_at(table_->get(key), key, "a non-empty string"));
  std::filesystem::path p(*text);
  return std::optional<std::filesystem::path>(p.is_relative() ? path_.parent_path() / p : p);
}

Result<std::optional<std::vector<std::filesystem::path>>> TomlSection::path_array(
    const char* key) const {
  CK_ASSIGN(const auto texts, string_array(key));
  if (!texts)
    return std::optional<std::vector<std::filesystem::path>>();
  std::vector<std::filesystem::path> out;
  for (const auto& text : *texts) {
    if (text.empty())
      return fail(wrong_at(table_->get(key), key, "an array of non-empty strings"));
    std::filesystem::path p(text);
    out.push_back(p.is_relative() ? path_.parent_path() / p : p);
  }
  return std::optional<std::vector<std::filesystem::path>>(std::move(out));
}

Result<TomlSection> TomlSection::table(const char* name, const std::set<std::string>& keys) const {
  const auto* node = table_ ? table_->get(name) : nullptr;
  const std::string prefix = prefix_ + name + ".";
  if (node == nullptr)
    return TomlSection(path_, nullptr, prefix);
  const auto* sub = node->as_table();
  if (sub == nullptr)
    return fail(wrong_at(node, name, "a table"));
  CK_TRY(check_toml_keys(path_, *sub, prefix, keys));
  return TomlSection(path_, sub, prefix);
}

Result<std::vector<TomlSection>> TomlSection::table_array(const char* name,
                                                          const std::set<std::string>& keys) const {
  std::vector<TomlSection> out;
  const auto* node = table_ ? table_->get(name) : nullptr;
  if (node == nullptr)
    return out;
  const auto* arr = node->as_array();
  if (arr == nullptr || !arr->is_array_of_tables())
    return fail(wrong_at(node, name, "an array of tables ([[" + prefix_ + name + "]])"));
  const std::string prefix = prefix_ + name + ".";
  for (const auto& item : *arr) {
    const auto* sub = item.as_table();
    CK_TRY(check_toml_keys(path_, *sub, prefix, keys));
    out.emplace_back(path_, sub, prefix);
  }
  return out;
}

Error TomlSection::wrong(const char* key, const std::string& what) const {
  const auto* node = table_ ? table_->get(key) : nullptr;
  if (node == nullptr)
    return Error{Code::InvalidArgument, where() + ": '" + prefix_ + key + "' " + what, {}};
  return wrong_at(node, key, what);
}

Error TomlSection::wrong_at(const toml::node* node, const char* key,
                            const std::string& what) const {
  return Error{Code::InvalidArgument,
               toml_where(path_, node->source()) + ": '" + prefix_ + key + "' must be " + what,
               {}};
}

}  // namespace ck
