#pragma once
// certkeeper.toml: the settings this version reads. Unknown keys and wrong
// types are errors that name the key and the line.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/pem.h"

namespace ck::cli {

struct Config {
  std::optional<std::filesystem::path> ca_passphrase_file;
  /// [delivery] command: argv (mustache: {{user}}, {{phone}}, {{email}}, {{cn}},
  /// {{serial}}) that gets each new PKCS#12 password on its standard input.
  std::vector<std::string> delivery_command;
  std::chrono::seconds delivery_timeout{30};
  /// [crl] out: where `crl build` writes when --out is not given.
  std::optional<std::filesystem::path> crl_out;
  /// [crl] publish_command: argv run after each build ({{crl_file}},
  /// {{crl_number}}, {{entries}}, {{tickets}}, {{bug_lines}}).
  std::vector<std::string> crl_publish_command;
  std::chrono::seconds crl_publish_timeout{120};
  /// [crl] max_size: `crl status` warns when the CRL file is larger (bytes).
  std::optional<std::int64_t> crl_max_size;
};

/// Reads `path`; a missing file is an empty config unless `required`.
[[nodiscard]] Result<Config> load_config(const std::filesystem::path& path, bool required);

/// Reads a secret from a file that only its owner may read (mode 0600 or
/// stricter); the trailing newline is not part of the secret.
[[nodiscard]] Result<Secret> read_secret_file(const std::filesystem::path& path,
                                              std::string_view what);

}  // namespace ck::cli
