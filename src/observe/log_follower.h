#pragma once
// Reading an access log as it grows (`observe --follow`), across rotation
// (the path now names a new file) and truncation (the file got shorter).

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace ck::observe {

class LogFollower {
 public:
  explicit LogFollower(std::filesystem::path path) : path_(std::move(path)) {}
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  /// Complete lines written since the last call. After a rotation the rest of
  /// the old file is read first, then the new file from its start.
  [[nodiscard]] Result<std::vector<std::string>> poll();
  /// The last line when the file does not end in a newline (at the end of a
  /// one-shot read).
  [[nodiscard]] std::string take_partial();

 private:
  Status open_current();
  Status read_to_end(std::vector<std::string>& lines);
  [[nodiscard]] bool rewritten(off_t size) const;

  std::filesystem::path path_;
  int fd_ = -1;
  ino_t inode_ = 0;
  off_t offset_ = 0;
  std::string partial_;
  std::string head_;  // the file's first bytes, to notice a truncate-and-refill between polls
};

}  // namespace ck::observe
