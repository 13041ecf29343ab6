#include "observe/log_format.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <utility>

#include "core/time_format.h"

namespace ck::observe {
namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Whether `value` is laid out as `pattern`: '9' a digit, 'a' a letter, 's' a
// sign, anything else itself. nginx writes its times with fixed widths.
bool laid_out_as(std::string_view value, std::string_view pattern) {
  if (value.size() != pattern.size())
    return false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    const bool ok = pattern[i] == '9'   ? std::isdigit(c) != 0
                    : pattern[i] == 'a' ? std::isalpha(c) != 0
                    : pattern[i] == 's' ? (c == '+' || c == '-')
                                        : c == static_cast<unsigned char>(pattern[i]);
    if (!ok)
      return false;
  }
  return true;
}

// A UTC offset "+01:00" or "+0100" (sign first) in seconds east.
long utc_offset(std::string_view s) {
  const auto digit = [&](std::size_t i) { return s[i] - '0'; };
  const std::size_t m = s.size() == 6 ? 4 : 3;
  const long hh = digit(1) * 10 + digit(2);
  const long mm = digit(m) * 10 + digit(m + 1);
  return (hh * 3600 + mm * 60) * (s[0] == '-' ? -1 : 1);
}

// $time_local: "23/Nov/2026:08:00:00 +0000"
std::optional<Seconds> parse_time_local(std::string_view s) {
  if (!laid_out_as(s, "99/aaa/9999:99:99:99 s9999"))
    return std::nullopt;
  std::tm tm{};
  const std::string text(s.substr(0, 20));
  const char* end = ::strptime(text.c_str(), "%d/%b/%Y:%H:%M:%S", &tm);
  if (end == nullptr || *end != '\0')
    return std::nullopt;
  return Seconds(std::chrono::seconds(::timegm(&tm) - utc_offset(s.substr(21))));
}

// $time_iso8601: "2026-11-23T08:00:00+00:00"
std::optional<Seconds> parse_time_iso(std::string_view s) {
  if (!laid_out_as(s, "9999-99-99T99:99:99s99:99"))
    return std::nullopt;
  auto t = parse_iso8601(std::string(s.substr(0, 19)) + "Z");
  if (!t)
    return std::nullopt;
  return *t - std::chrono::seconds(utc_offset(s.substr(19)));
}

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

bool hex_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// Variables a client writes (its request, headers, cookies, arguments, basic
// auth user, SNI, the names in a certificate nginx may not have verified) or
// that are made from them. nginx escapes '"' in logged values (as \x22), so
// between quotes such a value cannot end early; unquoted, a space in it would
// shift the fields after it and could make up a serial and a SUCCESS.
bool client_controlled(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "remote_user",
      "request",
      "request_uri",
      "uri",
      "document_uri",
      "args",
      "query_string",
      "request_body",
      "request_filename",
      "host",
      "content_type",
      "content_length",
      "ssl_server_name",
      "ssl_client_s_dn",
      "ssl_client_i_dn",
      "ssl_client_s_dn_legacy",
      "ssl_client_i_dn_legacy",
      "ssl_client_cert",
      "ssl_client_raw_cert",
      "ssl_client_escaped_cert",
      "proxy_add_x_forwarded_for",
      "fastcgi_script_name",
      "fastcgi_path_info",
      "upstream_cache_key",
  };
  static constexpr std::string_view kPrefixes[] = {
      "http_",
      "cookie_",
      "arg_",
      "sent_http_",
      "sent_trailer_",
      "upstream_http_",
      "upstream_trailer_",
      "upstream_cookie_",
      "jwt_",
  };
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames) ||
         std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                     [&](std::string_view p) { return name.starts_with(p); });
}

}  // namespace

LogFormat::Shape LogFormat::shape_of(std::string_view variable) {
  static constexpr std::pair<std::string_view, Shape> kKnown[] = {
      {"time_iso8601", Shape::TimeIso8601},
      {"time_local", Shape::TimeLocal},
      {"ssl_client_serial", Shape::Serial},
      {"ssl_client_verify", Shape::Verify},
      {"status", Shape::Status},
      {"body_bytes_sent", Shape::Count},
      {"bytes_sent", Shape::Count},
      {"request_length", Shape::Count},
      {"connection", Shape::Count},
      {"connection_requests", Shape::Count},
      {"pid", Shape::Count},
      {"request_time", Shape::Seconds},
      {"msec", Shape::Seconds},
      {"remote_addr", Shape::Address},
  };
  for (const auto& [name, shape] : kKnown) {
    if (name == variable)
      return shape;
  }
  return Shape::Any;
}

bool LogFormat::has_shape(Shape shape, std::string_view value) {
  switch (shape) {
    case Shape::Any:
      return true;
    case Shape::Quoted:
      return value.find('"') == std::string_view::npos;
    case Shape::TimeIso8601:
      return parse_time_iso(value).has_value();
    case Shape::TimeLocal:
      return parse_time_local(value).has_value();
    case Shape::Serial:
      // Up to 20 octets (RFC 5280 4.1.2.2); nginx writes '-' for no certificate.
      return value == "-" || (value.size() <= 40 && hex_digits(value));
    case Shape::Verify:
      return value == "SUCCESS" || value == "NONE" || value == "-" ||
             (value.starts_with("FAILED:") && value.size() > 7);
    case Shape::Status:
      return value.size() == 3 && digits(value);
    case Shape::Count:
      return digits(value);
    case Shape::Seconds: {
      const auto dot = value.find('.');
      return dot != std::string_view::npos && digits(value.substr(0, dot)) &&
             digits(value.substr(dot + 1));
    }
    case Shape::Address: {
      if (value == "unix:")
        return true;
      const std::string text(value);
      unsigned char buf[16];
      return ::inet_pton(AF_INET, text.c_str(), buf) == 1 ||
             ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
    }
  }
  return false;
}

Result<LogFormat> LogFormat::compile(std::string_view format) {
  LogFormat out;
  std::string literal;
  bool has_serial = false;
  bool has_verify = false;
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
    out.segments_.push_back({true, name, shape_of(name)});
    has_serial = has_serial || name == "ssl_client_serial";
    has_verify = has_verify || name == "ssl_client_verify";
    i = braced ? end + 1 : end;
  }
  if (!literal.empty())
    out.segments_.push_back({false, literal});
  if (!has_serial) {
    return fail(
        Code::InvalidArgument,
        "--log-format: the format has no $ssl_client_serial, so no certificate can be seen");
  }
  if (!has_verify) {
    // nginx logs the serial of a certificate it refused too (revoked,
    // expired, issued by someone else with the same serial).
    return fail(Code::InvalidArgument,
                "--log-format: the format has no $ssl_client_verify, so a certificate nginx "
                "refused would count as used; add $ssl_client_verify to the log_format");
  }
  CK_TRY(out.check_client_fields());
  return out;
}

Status LogFormat::check_client_fields() {
  for (std::size_t k = 0; k < segments_.size(); ++k) {
    auto& seg = segments_[k];
    if (!seg.variable || !client_controlled(seg.text))
      continue;
    const bool open = k > 0 && segments_[k - 1].text.ends_with('"');
    const bool close = k + 1 < segments_.size() && segments_[k + 1].text.starts_with('"');
    if (!open || !close) {
      return fail(Code::InvalidArgument,
                  "--log-format: $" + seg.text +
                      " is written by the client and is not alone between double quotes, so a "
                      "space in it could shift the fields after it; write \"$" +
                      seg.text + "\" in the log_format");
    }
    seg.shape = Shape::Quoted;
  }
  return {};
}

bool LogFormat::fits(std::string_view line, std::size_t k, std::size_t pos,
                     std::vector<std::string_view>& values, std::vector<bool>& dead) const {
  if (k == segments_.size())
    return pos == line.size();
  const std::size_t key = k * (line.size() + 1) + pos;
  if (dead[key])
    return false;
  const auto& seg = segments_[k];
  bool ok = false;
  if (!seg.variable) {
    ok = line.compare(pos, seg.text.size(), seg.text) == 0 &&
         fits(line, k + 1, pos + seg.text.size(), values, dead);
  } else if (k + 1 == segments_.size()) {
    values[k] = line.substr(pos);
    ok = has_shape(seg.shape, values[k]);
  } else {
    // A variable runs to an occurrence of the next literal: the first one
    // where its value has its shape and the rest of the line fits ("FAILED:
    // certificate revoked" holds the space that ends $ssl_client_verify).
    const auto& next = segments_[k + 1].text;
    for (auto end = line.find(next, pos); !ok && end != std::string_view::npos;
         end = line.find(next, end + 1)) {
      values[k] = line.substr(pos, end - pos);
      ok = has_shape(seg.shape, values[k]) && fits(line, k + 1, end, values, dead);
    }
  }
  // Whether (k, pos) fits does not depend on how the line got there, so a
  // failure is remembered and the search stays polynomial.
  if (!ok)
    dead[key] = true;
  return ok;
}

LogFormat::Match LogFormat::match(std::string_view line) const {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  std::vector<std::string_view> values(segments_.size());
  std::vector<bool> dead(segments_.size() * (line.size() + 1), false);
  if (!fits(line, 0, 0, values, dead))
    return Match{};
  Sighting s;
  std::optional<std::string_view> verify;
  for (std::size_t k = 0; k < segments_.size(); ++k) {
    switch (segments_[k].shape) {
      case Shape::Serial:
        s.serial_hex = std::string(values[k]);
        break;
      case Shape::Verify:
        verify = values[k];
        break;
      case Shape::TimeIso8601:
        s.when = parse_time_iso(values[k]);
        break;
      case Shape::TimeLocal:
        s.when = parse_time_local(values[k]);
        break;
      default:
        break;
    }
  }
  if (s.serial_hex == "-")
    return Match{true, std::nullopt};
  // A certificate nginx refused (revoked, expired) is not one the user applied.
  if (verify && *verify != "SUCCESS")
    return Match{true, std::nullopt};
  return Match{true, std::move(s)};
}

}  // namespace ck::observe
