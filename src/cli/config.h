#pragma once
// certkeeper.toml: the settings this version reads. Unknown keys and wrong
// types are errors that name the key and the line.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/pem.h"

namespace ck::cli {

/// [notify]: what `notify` does and its default window (also `expiring`'s).
struct NotifyConfig {
  std::optional<std::string> within;               // duration text, e.g. "14d"
  std::string ops_email;                           // the daily digest goes here; empty: none
  std::string email = "mailto";                    // smtp | mailto | none
  std::string ticket = "none";                     // conduit | link | webhook | none
  std::optional<std::filesystem::path> templates;  // folder of NAME.mustache overrides
  std::chrono::seconds timeout{30};                // per request (HTTP, SMTP)
  std::optional<std::filesystem::path> ca_file;    // trust anchors for https ticket URLs
};

/// [smtp]; the password comes from password_file (0600) or
/// CERTKEEPER_SMTP_PASSWORD, never from the config text.
struct SmtpConfig {
  std::string url;
  std::string from;
  bool starttls = false;
  std::string username;
  std::optional<std::filesystem::path> password_file;
  std::optional<std::filesystem::path> ca_file;
  bool allow_plaintext_auth = false;  // AUTH over smtp:// without STARTTLS
};

/// [ticket.conduit], [ticket.link], [ticket.webhook]; tokens come from
/// token_file (0600) or CERTKEEPER_CONDUIT_TOKEN / CERTKEEPER_WEBHOOK_TOKEN.
struct TicketConfig {
  std::string conduit_url;
  std::optional<std::filesystem::path> conduit_token_file;
  std::vector<std::string> conduit_projects;
  std::string link_url;
  std::string webhook_url;
  std::optional<std::filesystem::path> webhook_token_file;
  std::string webhook_id_field;
};

/// [serve]: the defaults of `certkeeper serve`'s options (flags win).
struct ServeConfig {
  std::optional<std::string> listen;  // "HOST:PORT"
  std::optional<std::chrono::seconds> probe_interval, refresh_interval, per_cert_window,
      probe_timeout;
  std::optional<std::int64_t> probe_threads;
  std::vector<std::filesystem::path> targets_files, plans;  // relative to the config's folder
  std::optional<std::filesystem::path> ca_file, token_file, tls_cert, tls_key, client_ca;
  std::optional<bool> allow_write;
};

struct Config {
  /// [store] url: the store when neither --store nor CERTKEEPER_STORE is
  /// given (a team's postgresql://...; no password in it).
  std::optional<std::string> store_url;
  std::optional<std::filesystem::path> ca_passphrase_file;
  /// [pkcs11]: the module of the token holding the CA key, and its PIN file.
  std::optional<std::filesystem::path> pkcs11_module;
  std::optional<std::filesystem::path> pkcs11_pin_file;
  /// [delivery] command: argv (mustache: {{user}}, {{phone}}, {{email}}, {{cn}},
  /// {{serial}}) that gets each new PKCS#12 password on its standard input.
  std::vector<std::string> delivery_command;
  std::chrono::seconds delivery_timeout{30};
  /// [crl] out: where `crl build` writes when --out is not given.
  std::optional<std::filesystem::path> crl_out;
  /// [crl] publish_command: argv run after each build ({{crl_file}},
  /// {{crl_number}}, {{entries}}, {{tickets}}, {{bug_lines}}).
  std::vector<std::string> crl_publish_command;
  std::chrono::seconds crl_publish_timeout{120};
  /// [crl] max_size: `crl status` warns when the CRL file is larger (bytes).
  std::optional<std::int64_t> crl_max_size;
  /// [crl] check_endpoints: after each published build, `crl check` of
  /// these (targets as `crl check` takes them), within check_timeout each.
  std::vector<std::string> crl_check_endpoints;
  std::chrono::seconds crl_check_timeout{5};
  NotifyConfig notify;
  SmtpConfig smtp;
  TicketConfig ticket;
  ServeConfig serve;
};

/// Reads `path`; a missing file is an empty config unless `required`.
[[nodiscard]] Result<Config> load_config(const std::filesystem::path& path, bool required);

/// Reads a secret from a file that only its owner may read (mode 0600 or
/// stricter); the trailing newline is not part of the secret.
[[nodiscard]] Result<Secret> read_secret_file(const std::filesystem::path& path,
                                              std::string_view what);

}  // namespace ck::cli
