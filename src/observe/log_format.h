#pragma once
// Reading lines of an nginx access log laid out by a `log_format` string: the
// site's own format is compiled into literal and variable segments, and each
// line is matched against it to pick out $ssl_client_serial and the time. A
// line is in the format only when each variable nginx writes in a known way
// has that shape (a time, a serial, a status), so a log written in another
// format (nginx's default `combined`) is told apart instead of read as lines
// without a certificate.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace ck::observe {

/// The format certkeeper documents for nginx:
///   log_format certkeeper '$time_iso8601 $ssl_client_serial $ssl_client_verify $remote_addr
///   "$request" $status';
inline constexpr std::string_view kDefaultLogFormat =
    "$time_iso8601 $ssl_client_serial $ssl_client_verify $remote_addr \"$request\" $status";

struct Sighting {
  std::string serial_hex;       // as nginx prints it (hex)
  std::optional<Seconds> when;  // from $time_iso8601 or $time_local
};

class LogFormat {
 public:
  /// Compiles a log_format string. It must contain $ssl_client_serial and
  /// $ssl_client_verify, and each variable a client writes ($remote_user,
  /// $request, $http_*...) must stand alone between double quotes.
  [[nodiscard]] static Result<LogFormat> compile(std::string_view format);

  struct Match {
    bool matched = false;              // false: not in this format (junk, or another format)
    std::optional<Sighting> sighting;  // a verified client certificate was used
  };
  /// Reads one line: whether it has the format, and the client certificate
  /// serial if one was presented and (when logged) verified.
  [[nodiscard]] Match match(std::string_view line) const;

 private:
  // What a variable's value looks like when nginx writes it.
  enum class Shape {
    Any,          // a variable certkeeper does not know: anything
    Quoted,       // a value the client writes, between quotes: anything but '"'
    TimeIso8601,  // 2026-11-23T08:00:00+00:00
    TimeLocal,    // 23/Nov/2026:08:00:00 +0000
    Serial,       // hex, or '-' without a client certificate
    Verify,       // SUCCESS, FAILED:reason, NONE, or '-' on a connection without TLS
    Status,       // three digits
    Count,        // digits ($body_bytes_sent, $request_length, ...)
    Seconds,      // digits with milliseconds ($request_time, $msec)
    Address,      // an IPv4 or IPv6 address, or "unix:" ($remote_addr)
  };
  [[nodiscard]] static Shape shape_of(std::string_view variable);
  /// Refuses a client-written variable outside quotes; marks the quoted ones.
  [[nodiscard]] Status check_client_fields();
  [[nodiscard]] static bool has_shape(Shape shape, std::string_view value);

  struct Segment {
    bool variable = false;
    std::string text;  // literal text, or the variable name without '$'
    Shape shape = Shape::Any;
  };
  /// Whether segments_[k...] match line[pos...]; values[k] gets each
  /// variable's value. dead marks (k, pos) already known not to match.
  bool fits(std::string_view line, std::size_t k, std::size_t pos,
            std::vector<std::string_view>& values, std::vector<bool>& dead) const;

  std::vector<Segment> segments_;
};

}  // namespace ck::observe
