#pragma once
// Sending one message over SMTP through libcurl: smtp:// with optional
// STARTTLS (required, never opportunistic, when asked for) or smtps://.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/pem.h"

namespace ck::net {

struct SmtpSettings {
  std::string url;  // smtp://host:port or smtps://host:port
  bool starttls = false;
  std::string username;  // AUTH when not empty
  std::optional<Secret> password;
  std::optional<std::filesystem::path> ca_file;
  std::chrono::milliseconds timeout{30000};
  /// AUTH over smtp:// without STARTTLS sends the password readable by anyone
  /// on the path; refused unless the operator says so ([smtp] allow_plaintext_auth).
  bool allow_plaintext_auth = false;
};

/// Refuses AUTH (a username) over a connection that is not encrypted
/// (smtp:// without starttls) unless `allow_plaintext_auth`; names the server.
[[nodiscard]] Status check_auth_transport(const SmtpSettings& settings);

/// Sends `message` (complete RFC 5322 text with CRLF line ends) from the
/// envelope sender to every recipient. The server's refusal is an error that
/// names the server and carries its reply.
[[nodiscard]] Status smtp_send(const SmtpSettings& settings, const std::string& envelope_from,
                               const std::vector<std::string>& recipients,
                               const std::string& message);

}  // namespace ck::net
