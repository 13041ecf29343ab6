#pragma once
// Typed, strict access to a TOML document (toml++) for certkeeper.toml and
// rollout plans: unknown keys and wrong types are errors that name the file,
// the line and the dotted key, so a typo never silently means "default".
// Built as its own library (ck_toml), so only modules that read TOML link it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "core/error.h"

namespace ck {

/// "'FILE' line N".
[[nodiscard]] std::string toml_where(const std::filesystem::path& path,
                                     const toml::source_region& src);

/// Parses a TOML file; a syntax error names the file and line.
[[nodiscard]] Result<toml::table> parse_toml_file(const std::filesystem::path& path,
                                                  std::string_view text);

/// Refuses keys of `table` not in `allowed` ("unknown key 'prefix.key'"); a
/// key called password or token is told to use a file instead.
[[nodiscard]] Status check_toml_keys(const std::filesystem::path& path, const toml::table& table,
                                     const std::string& prefix,
                                     const std::set<std::string>& allowed);

/// One table of a document; every accessor returns nullopt when the key is absent.
class TomlSection {
 public:
  TomlSection(const std::filesystem::path& path, const toml::table* table, std::string prefix)
      : path_(path), table_(table), prefix_(std::move(prefix)) {}

  [[nodiscard]] bool present() const { return table_ != nullptr; }
  [[nodiscard]] bool has(const char* key) const { return table_ && table_->contains(key); }
  /// "'FILE' line N" of the table itself (of `key` when given and present).
  [[nodiscard]] std::string where(const char* key = nullptr) const;
  [[nodiscard]] const std::string& prefix() const { return prefix_; }

  Result<std::optional<std::string>> string(const char* key) const;
  /// A non-empty array of strings.
  Result<std::optional<std::vector<std::string>>> string_array(const char* key) const;
  Result<std::optional<std::chrono::seconds>> duration(const char* key) const;
  Result<std::optional<bool>> boolean(const char* key) const;
  /// A string that must be one of `choices`.
  Result<std::optional<std::string>> choice(const char* key,
                                            const std::vector<std::string>& choices) const;
  /// A URL with one of `schemes` and a host.
  Result<std::optional<std::string>> url(const char* key,
                                         const std::vector<std::string>& schemes) const;
  Result<std::optional<std::int64_t>> positive_integer(const char* key) const;
  /// A path; relative ones are relative to the file's folder.
  Result<std::optional<std::filesystem::path>> path(const char* key) const;
  /// A non-empty array of paths, each as path() reads one.
  Result<std::optional<std::vector<std::filesystem::path>>> path_array(const char* key) const;

  /// The sub-table `name` (absent: a section that is not present()).
  Result<TomlSection> table(const char* name, const std::set<std::string>& keys) const;
  /// An array of tables ([[name]]), each checked against `keys`.
  Result<std::vector<TomlSection>> table_array(const char* name,
                                               const std::set<std::string>& keys) const;

  /// An error "FILE line N: 'prefix.key' must be WHAT".
  [[nodiscard]] Error wrong(const char* key, const std::string& what) const;

 private:
  template <class T>
  Result<std::optional<T>> typed(const char* key, const char* what) const;
  [[nodiscard]] Error wrong_at(const toml::node* node, const char* key,
                               const std::string& what) const;

  std::filesystem::path path_;
  const toml::table* table_;
  std::string prefix_;
};

}  // namespace ck
