#pragma once
// What to probe: a host, a port and the name to send as SNI.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace ck::probe {

enum class StartTls { None, Smtp, Imap, Pop3 };

[[nodiscard]] Result<StartTls> parse_starttls(std::string_view name);
[[nodiscard]] std::string_view starttls_name(StartTls proto);
/// The port a target without one is probed on: 443, or the protocol's
/// plain-text port when STARTTLS is asked for (25, 143, 110).
[[nodiscard]] std::uint16_t default_port(StartTls proto);

struct Target {
  std::string text;  // as given, for reports
  std::string host;  // a name or an IP literal (without brackets)
  std::uint16_t port = 443;
  std::string sni;  // empty: none is sent (the host is an IP literal)
  /// For https:// URLs, the path ("/" when none): where the probe sends its
  /// one GET when it needs the server's word on a client certificate.
  /// Empty for every other form: the probe never speaks HTTP to it.
  std::string http_path;
};

/// `host`, `host:port`, `host:port@sni`, `[v6]:port`, or `https://host:port/`.
[[nodiscard]] Result<Target> parse_target(std::string_view text, std::uint16_t port_if_missing);

/// One target per line; blank lines and `#` comments are skipped. Errors name
/// the file and line.
[[nodiscard]] Result<std::vector<Target>> read_targets_file(const std::filesystem::path& path,
                                                            std::uint16_t port_if_missing);

/// The targets of a command line: each argument, then `file`'s lines (when
/// `file` is not empty).
[[nodiscard]] Result<std::vector<Target>> collect_targets(const std::vector<std::string>& args,
                                                          const std::string& file,
                                                          std::uint16_t port_if_missing);

/// True when `host` is an IPv4 or IPv6 literal.
[[nodiscard]] bool is_ip_literal(std::string_view host);

}  // namespace ck::probe
