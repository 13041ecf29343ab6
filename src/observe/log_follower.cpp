#include "observe/log_follower.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ck::observe {

LogFollower::~LogFollower() {
  if (fd_ >= 0)
    ::close(fd_);
}

Status LogFollower::open_current() {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(errno == ENOENT ? Code::NotFound : Code::PermissionDenied,
                "cannot read access log '" + path_.string() + "': " + std::strerror(errno));
  }
  struct stat sb {};
  ::fstat(fd, &sb);
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = fd;
  inode_ = sb.st_ino;
  offset_ = 0;
  head_.clear();
  return {};
}

bool LogFollower::rewritten(off_t size) const {
  // copytruncate followed by new lines can leave the file longer than our
  // offset; its first bytes then differ from the ones we saw.
  if (size < offset_)
    return true;
  if (head_.empty())
    return false;
  std::string now(head_.size(), '\0');
  const ssize_t n = ::pread(fd_, now.data(), now.size(), 0);
  return n != static_cast<ssize_t>(head_.size()) || now != head_;
}

void LogFollower::keep(const char* bytes, std::size_t n) {
  if (skipping_)
    return;
  if (partial_.size() + n > kMaxLogLine) {
    partial_.clear();
    partial_.shrink_to_fit();
    skipping_ = true;
    return;
  }
  partial_.append(bytes, n);
}

void LogFollower::end_line(std::vector<std::string>& lines, std::size_t& used) {
  if (skipping_) {
    ++too_long_;
    skipping_ = false;
  } else {
    used += partial_.size() + 1;
    lines.push_back(std::move(partial_));
  }
  partial_.clear();
}

Status LogFollower::read_to_end(std::vector<std::string>& lines, std::size_t budget) {
  char buf[65536];
  std::size_t used = 0;
  behind_ = false;
  for (;;) {
    const ssize_t n = ::pread(fd_, buf, sizeof buf, offset_);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail(Code::Internal, "read '" + path_.string() + "': " + std::strerror(errno));
    }
    if (n == 0)
      return {};
    if (offset_ == 0)
      head_.assign(buf, std::min<std::size_t>(64, static_cast<std::size_t>(n)));
    const auto size = static_cast<std::size_t>(n);
    std::size_t start = 0;
    for (std::size_t i = 0; i < size; ++i) {
      if (buf[i] != '\n')
        continue;
      keep(buf + start, i - start);
      end_line(lines, used);
      start = i + 1;
      if (used >= budget) {
        // The rest of this buffer is read again by the next poll.
        offset_ += static_cast<off_t>(start);
        behind_ = true;
        return {};
      }
    }
    keep(buf + start, size - start);
    offset_ += n;
  }
}

Result<std::vector<std::string>> LogFollower::poll(std::size_t budget) {
  std::vector<std::string> lines;
  if (fd_ < 0) {
    CK_TRY(open_current());
  }
  struct stat now {};
  const bool exists = ::stat(path_.c_str(), &now) == 0;
  if (exists && now.st_ino != inode_) {
    // Rotated: finish the old file, then start the new one.
    CK_TRY(read_to_end(lines, budget));
    if (behind_)
      return lines;
    if (auto last = take_partial(); !last.empty())
      lines.push_back(std::move(last));
    CK_TRY(open_current());
  } else {
    struct stat cur {};
    ::fstat(fd_, &cur);
    if (rewritten(cur.st_size)) {
      // Truncated in place (copytruncate): start again from the top.
      offset_ = 0;
      partial_.clear();
      skipping_ = false;
      head_.clear();
    }
  }
  std::size_t used = 0;
  for (const auto& l : lines)
    used += l.size() + 1;
  CK_TRY(read_to_end(lines, used >= budget ? 1 : budget - used));
  return lines;
}

std::string LogFollower::take_partial() {
  if (skipping_) {
    ++too_long_;
    skipping_ = false;
  }
  std::string out = std::move(partial_);
  partial_.clear();
  return out;
}

}  // namespace ck::observe
