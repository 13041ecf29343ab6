#include "core/printable.h"

#include <cstdio>
#include <vector>

namespace ck {
namespace {

std::string hex_escape(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  return buf;
}

// The length of the UTF-8 sequence at `s[i]` (1-4), or 0 if it is not one.
std::size_t utf8_length(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
    lo = c == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    hi = c == 0xED ? 0x9F : 0xBF;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (i + n > s.size() || b(1) < lo || b(1) > hi)
    return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  return n;
}

// Code points a terminal acts on rather than shows: C1 controls, line and
// paragraph separators, bidirectional embeddings, overrides and isolates.
bool is_format_control(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string printable_line(std::string_view text, std::size_t max) {
  std::string out;
  out.reserve(text.size() < max ? text.size() : max + 64);
  std::vector<std::size_t> cuts;  // positions in `out` between two characters
  for (std::size_t i = 0; i < text.size();) {
    cuts.push_back(out.size());
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += hex_escape(c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      char32_t cp = 0;
      const std::size_t n = utf8_length(text, i, cp);
      if (n == 0) {
        out += hex_escape(c);
      } else if (is_format_control(cp)) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
        out += buf;
        i += n;
        continue;
      } else {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
    }
    ++i;
  }
  if (out.size() <= max)
    return out;
  // The start says what failed, the end often why: keep both.
  cuts.push_back(out.size());
  const std::size_t head_room = max * 3 / 4, tail_room = max - head_room;
  std::size_t head = 0, tail = out.size();
  for (const auto at : cuts) {
    if (at <= head_room)
      head = at;
    if (at >= out.size() - tail_room && tail == out.size())
      tail = at;
  }
  return out.substr(0, head) + " ... (" + std::to_string(tail - head) + " more bytes) ... " +
         out.substr(tail);
}

}  // namespace ck
