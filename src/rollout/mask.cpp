#include "rollout/mask.h"

#include <algorithm>

namespace ck::rollout {
namespace {

constexpr std::string_view kMask = "[secret]";
// A whole secret (a passphrase) is masked from 4 characters on; a line of a
// PEM secret from 8 (shorter lines, like a PEM's last, would mask words).
constexpr std::size_t kShortestSecret = 4;
constexpr std::size_t kShortestLine = 8;

void replace_all(std::string& text, std::string_view needle, std::size_t shortest) {
  if (needle.size() < shortest)
    return;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + kMask.size())) {
    text.replace(pos, needle.size(), kMask);
  }
}

// "-----BEGIN ... PRIVATE KEY-----" through its END line (or the end of the
// text, when the output was cut inside the block).
void mask_key_blocks(std::string& text) {
  std::size_t from = 0;
  while (true) {
    const auto begin = text.find("-----BEGIN ", from);
    if (begin == std::string::npos)
      return;
    const auto label_end = text.find("-----", begin + 11);
    if (label_end == std::string::npos)
      return;
    const std::string_view label(text.data() + begin + 11, label_end - begin - 11);
    if (label.find("PRIVATE KEY") == std::string_view::npos) {
      from = label_end + 5;
      continue;
    }
    const std::string end_marker = "-----END " + std::string(label) + "-----";
    const auto end = text.find(end_marker, label_end);
    const auto stop = end == std::string::npos ? text.size() : end + end_marker.size();
    text.replace(begin, stop - begin, kMask);
    from = begin + kMask.size();
  }
}

}  // namespace

std::string mask_secrets(std::string text, const std::vector<std::string>& secrets) {
  mask_key_blocks(text);
  for (const auto& secret : secrets) {
    replace_all(text, secret, kShortestSecret);
    // Each line of a multi-line secret on its own: tools re-wrap PEM.
    std::size_t start = 0;
    while (start < secret.size()) {
      auto nl = secret.find('\n', start);
      if (nl == std::string::npos)
        nl = secret.size();
      const std::string_view line(secret.data() + start, nl - start);
      if (line.find("-----") == std::string_view::npos)
        replace_all(text, line, kShortestLine);
      start = nl + 1;
    }
  }
  return text;
}

std::string tail(std::string_view text, std::size_t max) {
  if (text.size() <= max)
    return std::string(text);
  auto cut = text.size() - max;
  const auto nl = text.find('\n', cut);
  if (nl != std::string_view::npos && nl + 1 < text.size())
    cut = nl + 1;
  return "…" + std::string(text.substr(cut));
}

}  // namespace ck::rollout
