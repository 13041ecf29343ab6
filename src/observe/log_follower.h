#pragma once
// Reading an access log as it grows (`observe --follow`), across rotation
// (the path now names a new file) and truncation (the file got shorter).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace ck::observe {

/// The longest access-log line read: nginx's own request line and headers
/// stay far below it (8 KiB each by default). A longer line is skipped and
/// counted, so one hostile line costs neither memory nor matching time.
inline constexpr std::size_t kMaxLogLine = 64 * 1024;

class LogFollower {
 public:
  explicit LogFollower(std::filesystem::path path) : path_(std::move(path)) {}
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  /// Complete lines written since the last call, in order, until the file's
  /// end or until the lines hold `budget` bytes (then behind() is true and the
  /// next call goes on from there): memory stays bounded whatever the size of
  /// the log. After a rotation the rest of the old file is read first, then
  /// the new file from its start.
  [[nodiscard]] Result<std::vector<std::string>> poll(std::size_t budget = SIZE_MAX);
  /// Whether the last poll stopped at its budget before the end of the file.
  [[nodiscard]] bool behind() const { return behind_; }
  /// The last line when the file does not end in a newline (at the end of a
  /// one-shot read).
  [[nodiscard]] std::string take_partial();
  /// Lines longer than kMaxLogLine skipped so far.
  [[nodiscard]] std::size_t too_long() const { return too_long_; }

 private:
  Status open_current();
  /// Reads from offset_ to the end, or until `lines` holds `budget` bytes.
  Status read_to_end(std::vector<std::string>& lines, std::size_t budget);
  /// Adds bytes to the line being read, or starts skipping it once too long.
  void keep(const char* bytes, std::size_t n);
  void end_line(std::vector<std::string>& lines, std::size_t& used);
  [[nodiscard]] bool rewritten(off_t size) const;

  std::filesystem::path path_;
  int fd_ = -1;
  ino_t inode_ = 0;
  off_t offset_ = 0;
  std::string partial_;
  bool skipping_ = false;  // partial_ grew past kMaxLogLine: drop the rest of the line
  bool behind_ = false;
  std::size_t too_long_ = 0;
  std::string head_;  // the file's first bytes, to notice a truncate-and-refill between polls
};

}  // namespace ck::observe
