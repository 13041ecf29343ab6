#include "cli/config.h"

#include <sys/stat.h>

#include <set>
#include <sstream>

#include <toml++/toml.h>

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
  CK_TRY(check_keys(path, root, "", {"ca"}));
  if (const auto* ca_node = root.get("ca")) {
    const auto* ca = ca_node->as_table();
    if (ca == nullptr) {
      return fail(Code::InvalidArgument, where(path, ca_node->source()) + ": 'ca' must be a table");
    }
    CK_TRY(check_keys(path, *ca, "ca.", {"passphrase_file"}));
    if (const auto* pf = ca->get("passphrase_file")) {
      const auto value = pf->value<std::string>();
      if (!value || value->empty()) {
        return fail(Code::InvalidArgument, where(path, pf->source()) +
                                               ": 'ca.passphrase_file' must be a non-empty string");
      }
      std::filesystem::path p(*value);
      cfg.ca_passphrase_file = p.is_relative() ? path.parent_path() / p : p;
    }
  }
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
