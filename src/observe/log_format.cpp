#include "observe/log_format.h"

#include <cctype>
#include <ctime>

#include "core/time_format.h"

namespace ck::observe {
namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// $time_local: "23/Nov/2026:08:00:00 +0000"
std::optional<Seconds> parse_time_local(std::string_view s) {
  std::tm tm{};
  const std::string text(s);
  const char* end = ::strptime(text.c_str(), "%d/%b/%Y:%H:%M:%S", &tm);
  if (end == nullptr)
    return std::nullopt;
  long offset = 0;
  while (*end == ' ')
    ++end;
  if ((end[0] == '+' || end[0] == '-') && std::isdigit(static_cast<unsigned char>(end[1])) &&
      std::isdigit(static_cast<unsigned char>(end[4]))) {
    const int hh = (end[1] - '0') * 10 + (end[2] - '0');
    const int mm = (end[3] - '0') * 10 + (end[4] - '0');
    offset = (hh * 3600L + mm * 60L) * (end[0] == '-' ? -1 : 1);
  }
  return Seconds(std::chrono::seconds(::timegm(&tm) - offset));
}

// $time_iso8601: "2026-11-23T08:00:00+00:00"
std::optional<Seconds> parse_time_iso(std::string_view s) {
  if (s.size() < 19)
    return std::nullopt;
  std::string base(s.substr(0, 19));
  auto t = parse_iso8601(base + "Z");
  if (!t)
    return std::nullopt;
  long offset = 0;
  if (s.size() >= 25 && (s[19] == '+' || s[19] == '-')) {
    const int hh = (s[20] - '0') * 10 + (s[21] - '0');
    const int mm = (s[23] - '0') * 10 + (s[24] - '0');
    offset = (hh * 3600L + mm * 60L) * (s[19] == '-' ? -1 : 1);
  }
  return *t - std::chrono::seconds(offset);
}

}  // namespace

Result<LogFormat> LogFormat::compile(std::string_view format) {
  LogFormat out;
  std::string literal;
  bool has_serial = false;
  for (std::size_t i = 0; i < format.size();) {
    if (format[i] != '$') {
      literal += format[i++];
      continue;
    }
    std::size_t start = i + 1;
    std::size_t end = start;
    bool braced = start < format.size() && format[start] == '{';
    if (braced) {
      end = format.find('}', start);
      if (end == std::string_view::npos) {
        return fail(Code::InvalidArgument,
                    "--log-format: unclosed '${' at position " + std::to_string(i));
      }
      ++start;
    } else {
      while (end < format.size() && name_char(format[end]))
        ++end;
    }
    const std::string name(format.substr(start, end - start));
    if (name.empty()) {
      return fail(Code::InvalidArgument,
                  "--log-format: '$' without a variable name at position " + std::to_string(i));
    }
    if (!literal.empty()) {
      out.segments_.push_back({false, literal});
      literal.clear();
    }
    if (!out.segments_.empty() && out.segments_.back().variable) {
      return fail(Code::InvalidArgument, "--log-format: $" + out.segments_.back().text + " and $" +
                                             name +
                                             " have nothing between them to tell them apart");
    }
    out.segments_.push_back({true, name});
    has_serial = has_serial || name == "ssl_client_serial";
    i = braced ? end + 1 : end;
  }
  if (!literal.empty())
    out.segments_.push_back({false, literal});
  if (!has_serial) {
    return fail(
        Code::InvalidArgument,
        "--log-format: the format has no $ssl_client_serial, so no certificate can be seen");
  }
  return out;
}

LogFormat::Match LogFormat::match(std::string_view line) const {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  Sighting s;
  std::optional<std::string_view> verify;
  std::size_t pos = 0;
  for (std::size_t k = 0; k < segments_.size(); ++k) {
    const auto& seg = segments_[k];
    if (!seg.variable) {
      if (line.compare(pos, seg.text.size(), seg.text) != 0)
        return Match{};
      pos += seg.text.size();
      continue;
    }
    // A variable runs to the next literal (or the end of the line).
    std::size_t end = line.size();
    if (k + 1 < segments_.size()) {
      end = line.find(segments_[k + 1].text, pos);
      if (end == std::string_view::npos)
        return Match{};
    }
    const auto value = line.substr(pos, end - pos);
    if (seg.text == "ssl_client_serial") {
      s.serial_hex = std::string(value);
    } else if (seg.text == "ssl_client_verify") {
      verify = value;
    } else if (seg.text == "time_iso8601") {
      s.when = parse_time_iso(value);
    } else if (seg.text == "time_local") {
      s.when = parse_time_local(value);
    }
    pos = end;
  }
  if (pos != line.size())
    return Match{};
  if (s.serial_hex.empty() || s.serial_hex == "-")
    return Match{true, std::nullopt};
  // A certificate nginx refused (revoked, expired) is not one the user applied.
  if (verify && *verify != "SUCCESS")
    return Match{true, std::nullopt};
  for (const char c : s.serial_hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return Match{};
  }
  return Match{true, std::move(s)};
}

}  // namespace ck::observe
