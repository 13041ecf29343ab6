#include "rollout/pins.h"

#include <glob.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "core/file_io.h"
#include "core/fingerprint.h"

namespace ck::rollout {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool fingerprint_char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':';
}

// Replaces whole, case-insensitive occurrences of `from` in `text`.
std::size_t replace_fingerprint(std::string& text, const std::string& from, const std::string& to) {
  const std::string needle = lower(from);
  std::string haystack = lower(text);
  std::size_t count = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    const bool starts = pos == 0 || !fingerprint_char(haystack[pos - 1]);
    const auto end = pos + needle.size();
    const bool ends = end == haystack.size() || !fingerprint_char(haystack[end]);
    if (!starts || !ends)
      continue;
    text.replace(pos, from.size(), to);
    haystack.replace(pos, needle.size(), lower(to));
    ++count;
  }
  return count;
}

bool contains_fingerprint(const std::string& text, const std::string& fp) {
  std::string copy = text;
  return replace_fingerprint(copy, fp, fp) > 0;
}

}  // namespace

std::vector<std::filesystem::path> pin_files(const Plan& plan, const Pin& pin) {
  std::set<std::filesystem::path> out;
  for (const auto& pattern : pin.paths) {
    const std::string full = std::filesystem::path(pattern).is_relative()
                                 ? (plan.file.parent_path() / pattern).string()
                                 : pattern;
    glob_t g{};
    if (::glob(full.c_str(), 0, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i)
        out.insert(g.gl_pathv[i]);
    }
    ::globfree(&g);
  }
  return {out.begin(), out.end()};
}

Result<std::vector<PinEdit>> plan_pin_edits(const Plan& plan, const X509& old_cert,
                                            const X509& new_cert) {
  std::vector<PinEdit> out;
  for (const auto& pin : plan.pins) {
    CK_ASSIGN(const auto from, fingerprint(old_cert, pin.algorithm, pin.format));
    CK_ASSIGN(const auto to, fingerprint(new_cert, pin.algorithm, pin.format));
    for (const auto& path : pin_files(plan, pin)) {
      // Two pins may match one file (md5 and sha256): edit it once, in turn.
      auto it =
          std::find_if(out.begin(), out.end(), [&](const PinEdit& e) { return e.path == path; });
      if (it == out.end()) {
        PinEdit e;
        e.path = path;
        CK_ASSIGN(e.after, read_file(path));
        out.push_back(std::move(e));
        it = out.end() - 1;
      }
      it->replaced += replace_fingerprint(it->after, from, to);
      it->holds_new = it->holds_new || contains_fingerprint(it->after, to);
    }
  }
  return out;
}

}  // namespace ck::rollout
