#pragma once
// Shared by the libFuzzer targets (tests/fuzz/*_fuzz.cpp): the input as text,
// its lines, and a scratch file for parsers that only read from a path.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace ck::fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// The input split at '\n' (the newline dropped; a last line without one kept).
inline std::vector<std::string_view> lines(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto nl = s.find('\n');
    out.push_back(s.substr(0, nl));
    if (nl == std::string_view::npos)
      break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

/// A file named `name` in a folder of this process's own, rewritten for each
/// input: load_config, load_plan and read_targets_file take a path. The
/// folder is removed when the fuzzer exits normally.
class ScratchFile {
 public:
  explicit ScratchFile(const char* name) {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ck-fuzz-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr)
      std::abort();
    dir_ = dir;
    path_ = dir_ / name;
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  ~ScratchFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  const std::filesystem::path& write(std::string_view content) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out.flush())
      std::abort();
    return path_;
  }

 private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

}  // namespace ck::fuzz
