#pragma once
// Reading lines of an nginx access log laid out by a `log_format` string: the
// site's own format is compiled into literal and variable segments, and each
// line is matched against it to pick out $ssl_client_serial and the time.

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
  /// Compiles a log_format string; it must contain $ssl_client_serial.
  [[nodiscard]] static Result<LogFormat> compile(std::string_view format);

  struct Match {
    bool matched = false;              // false: a junk line, not in this format
    std::optional<Sighting> sighting;  // a verified client certificate was used
  };
  /// Reads one line: whether it has the format, and the client certificate
  /// serial if one was presented and (when logged) verified.
  [[nodiscard]] Match match(std::string_view line) const;

 private:
  struct Segment {
    bool variable = false;
    std::string text;  // literal text, or the variable name without '$'
  };
  std::vector<Segment> segments_;
};

}  // namespace ck::observe
