#pragma once
// What a `files` deploy replaces, kept so rollback can put back exactly the
// bytes (and mode) each path had, or remove a path that did not exist. The
// backup holds keys: the journal seals it (core/seal.h) before storing it.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace ck::rollout {

struct FileState {
  std::filesystem::path path;
  bool existed = false;
  std::string bytes;
  unsigned mode = 0;
  // Owner, put back when it is not who runs the restore (a deploy with
  // `owner` replaced a file of another user).
  unsigned uid = 0, gid = 0;
};

/// The current state of each path (a missing file is recorded as such).
[[nodiscard]] Result<std::vector<FileState>> capture(
    const std::vector<std::filesystem::path>& paths);

/// Puts every path back: the old bytes and mode atomically, or removes a
/// path that did not exist before. The owner is restored too.
[[nodiscard]] Status restore(const std::vector<FileState>& states);

/// Gives an existing file back to the owner in `state`, through a descriptor
/// (a symlink at the path is refused, not followed). Nothing to do is fine.
[[nodiscard]] Status give_back(const FileState& state);

/// Serialised form for the journal (JSON with base64 bytes), and back.
[[nodiscard]] std::string encode_backup(const std::vector<FileState>& states);
[[nodiscard]] Result<std::vector<FileState>> decode_backup(std::string_view text);

}  // namespace ck::rollout
