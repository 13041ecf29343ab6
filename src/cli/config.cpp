#include "cli/config.h"

#include <sys/stat.h>

#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/duration.h"
#include "core/file_io.h"

namespace ck::cli {
namespace {

std::string where(const std::filesystem::path& path, const toml::source_region& src) {
  return "'" + path.string() + "' line " + std::to_string(src.begin.line);
}

Status check_keys(const std::filesystem::path& path, const toml::table& table,
                  const std::string& prefix, const std::set<std::string>& allowed) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (!allowed.contains(name)) {
      return fail(Code::InvalidArgument,
                  where(path, key.source()) + ": unknown key '" + prefix + name + "'");
    }
  }
  return {};
}

}  // namespace

namespace {

// Typed access to one table of the config; every error names file, line, key.
class Section {
 public:
  Section(const std::filesystem::path& path, const toml::table* table, std::string prefix)
      : path_(path), table_(table), prefix_(std::move(prefix)) {}

  [[nodiscard]] bool present() const { return table_ != nullptr; }

  Result<std::optional<std::string>> string(const char* key) const {
    const auto* node = table_ ? table_->get(key) : nullptr;
    if (node == nullptr)
      return std::optional<std::string>();
    const auto value = node->value<std::string>();
    if (!value)
      return wrong(node, key, "a string");
    return std::optional<std::string>(*value);
  }

  Result<std::optional<std::vector<std::string>>> string_array(const char* key) const {
    const auto* node = table_ ? table_->get(key) : nullptr;
    if (node == nullptr)
      return std::optional<std::vector<std::string>>();
    const auto* arr = node->as_array();
    if (arr == nullptr || arr->empty())
      return wrong(node, key, "a non-empty array of strings");
    std::vector<std::string> out;
    for (const auto& item : *arr) {
      const auto value = item.value<std::string>();
      if (!value)
        return wrong(&item, key, "a non-empty array of strings");
      out.push_back(*value);
    }
    return std::optional<std::vector<std::string>>(std::move(out));
  }

  Result<std::optional<std::chrono::seconds>> duration(const char* key) const {
    CK_ASSIGN(const auto text, string(key));
    if (!text)
      return std::optional<std::chrono::seconds>();
    auto d = parse_duration(*text);
    if (!d)
      return wrong(table_->get(key), key, "a duration such as \"30s\" or \"2d\"");
    return std::optional<std::chrono::seconds>(*d);
  }

  Result<std::optional<std::int64_t>> positive_integer(const char* key) const {
    const auto* node = table_ ? table_->get(key) : nullptr;
    if (node == nullptr)
      return std::optional<std::int64_t>();
    const auto value = node->value<std::int64_t>();
    if (!value || *value <= 0)
      return wrong(node, key, "a positive integer");
    return std::optional<std::int64_t>(*value);
  }

  /// A path; relative ones are relative to the config file's folder.
  Result<std::optional<std::filesystem::path>> path(const char* key) const {
    CK_ASSIGN(const auto text, string(key));
    if (!text)
      return std::optional<std::filesystem::path>();
    if (text->empty())
      return wrong(table_->get(key), key, "a non-empty string");
    std::filesystem::path p(*text);
    return std::optional<std::filesystem::path>(p.is_relative() ? path_.parent_path() / p : p);
  }

 private:
  tl::unexpected<Error> wrong(const toml::node* node, const char* key, const char* what) const {
    return fail(Code::InvalidArgument,
                where(path_, node->source()) + ": '" + prefix_ + key + "' must be " + what);
  }

  const std::filesystem::path& path_;
  const toml::table* table_;
  std::string prefix_;
};

Result<Section> section(const std::filesystem::path& path, const toml::table& root,
                        const char* name, const std::set<std::string>& keys) {
  const auto* node = root.get(name);
  if (node == nullptr)
    return Section(path, nullptr, std::string(name) + ".");
  const auto* table = node->as_table();
  if (table == nullptr) {
    return fail(Code::InvalidArgument,
                where(path, node->source()) + ": '" + name + "' must be a table");
  }
  CK_TRY(check_keys(path, *table, std::string(name) + ".", keys));
  return Section(path, table, std::string(name) + ".");
}

}  // namespace

Result<Config> load_config(const std::filesystem::path& path, bool required) {
  Config cfg;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (required) {
      return fail(Code::NotFound, "config file '" + path.string() + "' does not exist");
    }
    return cfg;
  }
  CK_ASSIGN(const auto text, read_file(path));
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    return fail(Code::InvalidArgument,
                where(path, e.source()) + ": " + std::string(e.description()));
  }
  CK_TRY(check_keys(path, root, "", {"ca", "delivery", "crl"}));

  CK_ASSIGN(const auto ca, section(path, root, "ca", {"passphrase_file"}));
  CK_ASSIGN(cfg.ca_passphrase_file, ca.path("passphrase_file"));

  CK_ASSIGN(const auto delivery, section(path, root, "delivery", {"command", "timeout"}));
  CK_ASSIGN(auto command, delivery.string_array("command"));
  if (command)
    cfg.delivery_command = std::move(*command);
  CK_ASSIGN(const auto timeout, delivery.duration("timeout"));
  if (timeout) {
    cfg.delivery_timeout = *timeout;
  }

  CK_ASSIGN(const auto crl,
            section(path, root, "crl", {"out", "publish_command", "publish_timeout", "max_size"}));
  CK_ASSIGN(cfg.crl_out, crl.path("out"));
  CK_ASSIGN(auto publish, crl.string_array("publish_command"));
  if (publish) {
    cfg.crl_publish_command = std::move(*publish);
  }
  CK_ASSIGN(const auto publish_timeout, crl.duration("publish_timeout"));
  if (publish_timeout) {
    cfg.crl_publish_timeout = *publish_timeout;
  }
  CK_ASSIGN(cfg.crl_max_size, crl.positive_integer("max_size"));
  return cfg;
}

Result<Secret> read_secret_file(const std::filesystem::path& path, std::string_view what) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) {
    return fail(Code::NotFound, std::string(what) + " '" + path.string() + "' does not exist");
  }
  if ((sb.st_mode & 077) != 0) {
    return fail(Code::PermissionDenied, std::string(what) + " '" + path.string() +
                                            "' can be read by others (chmod 600 it)");
  }
  CK_ASSIGN(auto text, read_file(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  if (text.empty()) {
    return fail(Code::InvalidArgument, std::string(what) + " '" + path.string() + "' is empty");
  }
  return Secret(std::move(text));
}

}  // namespace ck::cli
