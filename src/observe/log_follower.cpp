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

Status LogFollower::read_to_end(std::vector<std::string>& lines) {
  char buf[65536];
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
    offset_ += n;
    std::size_t start = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      if (buf[i] == '\n') {
        partial_.append(buf + start, i - start);
        lines.push_back(std::move(partial_));
        partial_.clear();
        start = i + 1;
      }
    }
    partial_.append(buf + start, static_cast<std::size_t>(n) - start);
  }
}

Result<std::vector<std::string>> LogFollower::poll() {
  std::vector<std::string> lines;
  if (fd_ < 0) {
    CK_TRY(open_current());
  }
  struct stat now {};
  const bool exists = ::stat(path_.c_str(), &now) == 0;
  if (exists && now.st_ino != inode_) {
    // Rotated: finish the old file, then start the new one.
    CK_TRY(read_to_end(lines));
    if (!partial_.empty())
      lines.push_back(take_partial());
    CK_TRY(open_current());
  } else {
    struct stat cur {};
    ::fstat(fd_, &cur);
    if (rewritten(cur.st_size)) {
      // Truncated in place (copytruncate): start again from the top.
      offset_ = 0;
      partial_.clear();
      head_.clear();
    }
  }
  CK_TRY(read_to_end(lines));
  return lines;
}

std::string LogFollower::take_partial() {
  std::string out = std::move(partial_);
  partial_.clear();
  return out;
}

}  // namespace ck::observe
