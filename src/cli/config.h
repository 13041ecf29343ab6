#pragma once
// certkeeper.toml: the settings this version reads. Unknown keys and wrong
// types are errors that name the key and the line.

#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/pem.h"

namespace ck::cli {

struct Config {
  std::optional<std::filesystem::path> ca_passphrase_file;
};

/// Reads `path`; a missing file is an empty config unless `required`.
[[nodiscard]] Result<Config> load_config(const std::filesystem::path& path, bool required);

/// Reads a secret from a file that only its owner may read (mode 0600 or
/// stricter); the trailing newline is not part of the secret.
[[nodiscard]] Result<Secret> read_secret_file(const std::filesystem::path& path,
                                              std::string_view what);

}  // namespace ck::cli
