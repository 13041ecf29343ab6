#include "rollout/file_backup.h"

#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/file_io.h"

namespace ck::rollout {

Result<std::vector<FileState>> capture(const std::vector<std::filesystem::path>& paths) {
  std::vector<FileState> out;
  for (const auto& p : paths) {
    FileState s;
    s.path = p;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno != ENOENT)
        return fail(Code::Storage, "cannot inspect '" + p.string() + "': " + std::strerror(errno));
      out.push_back(std::move(s));
      continue;
    }
    if (!S_ISREG(st.st_mode))
      return fail(Code::InvalidArgument, "'" + p.string() + "' is not a regular file");
    s.existed = true;
    s.mode = st.st_mode & 07777;
    s.uid = st.st_uid;
    s.gid = st.st_gid;
    CK_ASSIGN(s.bytes, read_file(p));
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

// The file is exactly as the backup has it: bytes, mode and owner.
bool holds(const FileState& s) {
  struct stat st {};
  if (::lstat(s.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != s.mode ||
      st.st_uid != s.uid || st.st_gid != s.gid)
    return false;
  const auto bytes = read_file(s.path);
  return bytes && *bytes == s.bytes;
}

}  // namespace

Status restore(const std::vector<FileState>& states) {
  for (const auto& s : states) {
    if (s.existed) {
      if (holds(s))
        continue;  // as it was (a deploy that failed to write): nothing to write on a full disk
      // Owned before it takes the name (see write_file_atomic).
      const bool other = s.uid != ::geteuid() || s.gid != ::getegid();
      CK_TRY(write_file_atomic(s.path, s.bytes, s.mode,
                               other ? FileOwner{s.uid, s.gid} : FileOwner{}));
      continue;
    }
    std::error_code ec;
    std::filesystem::remove(s.path, ec);
    if (ec)
      return fail(Code::Storage, "cannot remove '" + s.path.string() + "': " + ec.message());
  }
  return {};
}

Status give_back(const FileState& s) {
  const int fd = ::open(s.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return fail(Code::PermissionDenied, "cannot open '" + s.path.string() +
                                            "' to give it back to uid " + std::to_string(s.uid) +
                                            ": " + std::strerror(errno));
  }
  struct stat st {};
  Status status;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    status = fail(Code::InvalidArgument, "'" + s.path.string() + "' is not a regular file");
  } else if ((st.st_uid != s.uid || st.st_gid != s.gid) && ::fchown(fd, s.uid, s.gid) != 0) {
    status = fail(Code::PermissionDenied, "cannot give '" + s.path.string() + "' back to uid " +
                                              std::to_string(s.uid) + ": " + std::strerror(errno));
  }
  ::close(fd);
  return status;
}

std::string encode_backup(const std::vector<FileState>& states) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& s : states) {
    files.push_back({{"path", s.path.string()},
                     {"existed", s.existed},
                     {"mode", s.mode},
                     {"uid", s.uid},
                     {"gid", s.gid},
                     {"bytes", base64url_encode(s.bytes)}});
  }
  return nlohmann::json{{"files", files}}.dump();
}

Result<std::vector<FileState>> decode_backup(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("files") || !j["files"].is_array())
    return fail(Code::Storage, "rollout journal: damaged file backup");
  std::vector<FileState> out;
  try {
    for (const auto& f : j["files"]) {
      FileState s;
      s.path = f.at("path").get<std::string>();
      s.existed = f.at("existed").get<bool>();
      s.mode = f.at("mode").get<unsigned>();
      s.uid = f.value("uid", 0U);
      s.gid = f.value("gid", 0U);
      auto bytes = base64url_decode(f.at("bytes").get<std::string>());
      if (!bytes)
        return fail(Code::Storage, "rollout journal: damaged file backup");
      s.bytes = std::move(*bytes);
      out.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception&) {
    return fail(Code::Storage, "rollout journal: damaged file backup");
  }
  return out;
}

}  // namespace ck::rollout
