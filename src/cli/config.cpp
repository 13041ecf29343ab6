#include "cli/config.h"

#include <sys/stat.h>

#include <set>
#include <sstream>

#include "core/duration.h"
#include "core/file_io.h"
#include "core/toml_section.h"

namespace ck::cli {
namespace {

using Section = TomlSection;

Result<Section> section(const std::filesystem::path& path, const toml::table& root,
                        const char* name, const std::set<std::string>& keys) {
  return Section(path, &root, "").table(name, keys);
}

template <class T>
void set_if(T& field, std::optional<T>&& value) {
  if (value)
    field = std::move(*value);
}

// [notify], [smtp] and [ticket.*]; what a chosen method needs must be there.
Status load_notify(const std::filesystem::path& path, const toml::table& root, Config& cfg) {
  CK_ASSIGN(const auto notify,
            section(path, root, "notify",
                    {"within", "ops_email", "email", "ticket", "templates", "timeout", "ca_file"}));
  CK_ASSIGN(cfg.notify.within, notify.string("within"));
  CK_ASSIGN(const auto within, notify.duration("within"));
  (void)within;  // checked here so a typo fails at load, kept as text for messages
  CK_ASSIGN(auto ops, notify.string("ops_email"));
  set_if(cfg.notify.ops_email, std::move(ops));
  CK_ASSIGN(auto email, notify.choice("email", {"smtp", "mailto", "none"}));
  set_if(cfg.notify.email, std::move(email));
  CK_ASSIGN(auto ticket, notify.choice("ticket", {"conduit", "link", "webhook", "none"}));
  set_if(cfg.notify.ticket, std::move(ticket));
  CK_ASSIGN(cfg.notify.templates, notify.path("templates"));
  CK_ASSIGN(auto timeout, notify.duration("timeout"));
  set_if(cfg.notify.timeout, std::move(timeout));
  CK_ASSIGN(cfg.notify.ca_file, notify.path("ca_file"));

  CK_ASSIGN(const auto smtp, section(path, root, "smtp",
                                     {"url", "from", "starttls", "username", "password_file",
                                      "ca_file", "allow_plaintext_auth"}));
  CK_ASSIGN(auto url, smtp.url("url", {"smtp", "smtps"}));
  set_if(cfg.smtp.url, std::move(url));
  CK_ASSIGN(auto from, smtp.string("from"));
  set_if(cfg.smtp.from, std::move(from));
  CK_ASSIGN(auto starttls, smtp.boolean("starttls"));
  set_if(cfg.smtp.starttls, std::move(starttls));
  CK_ASSIGN(auto username, smtp.string("username"));
  set_if(cfg.smtp.username, std::move(username));
  CK_ASSIGN(cfg.smtp.password_file, smtp.path("password_file"));
  CK_ASSIGN(cfg.smtp.ca_file, smtp.path("ca_file"));
  CK_ASSIGN(auto plaintext, smtp.boolean("allow_plaintext_auth"));
  set_if(cfg.smtp.allow_plaintext_auth, std::move(plaintext));

  CK_ASSIGN(const auto tickets, section(path, root, "ticket", {"conduit", "link", "webhook"}));
  CK_ASSIGN(const auto conduit, tickets.table("conduit", {"url", "token_file", "projects"}));
  CK_ASSIGN(auto conduit_url, conduit.url("url", {"http", "https"}));
  set_if(cfg.ticket.conduit_url, std::move(conduit_url));
  CK_ASSIGN(cfg.ticket.conduit_token_file, conduit.path("token_file"));
  CK_ASSIGN(auto projects, conduit.string_array("projects"));
  set_if(cfg.ticket.conduit_projects, std::move(projects));
  CK_ASSIGN(const auto link, tickets.table("link", {"url"}));
  CK_ASSIGN(auto link_url, link.url("url", {"http", "https"}));
  set_if(cfg.ticket.link_url, std::move(link_url));
  CK_ASSIGN(const auto webhook, tickets.table("webhook", {"url", "token_file", "id_field"}));
  CK_ASSIGN(auto webhook_url, webhook.url("url", {"http", "https"}));
  set_if(cfg.ticket.webhook_url, std::move(webhook_url));
  CK_ASSIGN(cfg.ticket.webhook_token_file, webhook.path("token_file"));
  CK_ASSIGN(auto id_field, webhook.string("id_field"));
  set_if(cfg.ticket.webhook_id_field, std::move(id_field));

  // A chosen method without its settings is a config error, found before any
  // notification is attempted.
  const auto need = [&](bool ok, const std::string& what) -> Status {
    if (ok)
      return {};
    return fail(Code::InvalidArgument, "'" + path.string() + "': " + what);
  };
  CK_TRY(need(cfg.notify.email != "smtp" || (!cfg.smtp.url.empty() && !cfg.smtp.from.empty()),
              "notify.email = \"smtp\" needs [smtp] url and from"));
  CK_TRY(need(cfg.notify.ticket != "conduit" || !cfg.ticket.conduit_url.empty(),
              "notify.ticket = \"conduit\" needs [ticket.conduit] url"));
  CK_TRY(need(cfg.notify.ticket != "link" || !cfg.ticket.link_url.empty(),
              "notify.ticket = \"link\" needs [ticket.link] url"));
  CK_TRY(need(cfg.notify.ticket != "webhook" || !cfg.ticket.webhook_url.empty(),
              "notify.ticket = \"webhook\" needs [ticket.webhook] url"));
  return {};
}

Status load_serve(const std::filesystem::path& path, const toml::table& root, ServeConfig& out) {
  CK_ASSIGN(const auto serve,
            section(path, root, "serve",
                    {"listen", "probe_interval", "refresh_interval", "per_cert_window",
                     "probe_timeout", "probe_threads", "targets_files", "plans", "ca_file",
                     "token_file", "tls_cert", "tls_key", "client_ca", "allow_write"}));
  CK_ASSIGN(out.listen, serve.string("listen"));
  CK_ASSIGN(out.probe_interval, serve.duration("probe_interval"));
  CK_ASSIGN(out.refresh_interval, serve.duration("refresh_interval"));
  CK_ASSIGN(out.per_cert_window, serve.duration("per_cert_window"));
  CK_ASSIGN(out.probe_timeout, serve.duration("probe_timeout"));
  CK_ASSIGN(out.probe_threads, serve.positive_integer("probe_threads"));
  CK_ASSIGN(auto targets_files, serve.path_array("targets_files"));
  out.targets_files = std::move(targets_files).value_or(std::vector<std::filesystem::path>{});
  CK_ASSIGN(auto plans, serve.path_array("plans"));
  out.plans = std::move(plans).value_or(std::vector<std::filesystem::path>{});
  CK_ASSIGN(out.ca_file, serve.path("ca_file"));
  CK_ASSIGN(out.token_file, serve.path("token_file"));
  CK_ASSIGN(out.tls_cert, serve.path("tls_cert"));
  CK_ASSIGN(out.tls_key, serve.path("tls_key"));
  CK_ASSIGN(out.client_ca, serve.path("client_ca"));
  CK_ASSIGN(out.allow_write, serve.boolean("allow_write"));
  return {};
}

}  // namespace

Result<Config> load_config(const std::filesystem::path& path, bool required) {
  Config cfg;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (required) {
      return fail(Code::NotFound, "config file '" + path.string() + "' does not exist");
    }
    return cfg;
  }
  CK_ASSIGN(const auto text, read_file(path, kTomlInput));
  CK_ASSIGN(const auto root, parse_toml_file(path, text));
  CK_TRY(check_toml_keys(
      path, root, "",
      {"store", "ca", "pkcs11", "delivery", "crl", "notify", "smtp", "ticket", "serve"}));

  CK_ASSIGN(const auto store, section(path, root, "store", {"url"}));
  CK_ASSIGN(cfg.store_url, store.string("url"));

  CK_ASSIGN(const auto ca, section(path, root, "ca", {"passphrase_file"}));
  CK_ASSIGN(cfg.ca_passphrase_file, ca.path("passphrase_file"));

  CK_ASSIGN(const auto pkcs11, section(path, root, "pkcs11", {"module", "pin_file"}));
  CK_ASSIGN(cfg.pkcs11_module, pkcs11.path("module"));
  CK_ASSIGN(cfg.pkcs11_pin_file, pkcs11.path("pin_file"));

  CK_ASSIGN(const auto delivery, section(path, root, "delivery", {"command", "timeout"}));
  CK_ASSIGN(auto command, delivery.string_array("command"));
  if (command)
    cfg.delivery_command = std::move(*command);
  CK_ASSIGN(const auto timeout, delivery.duration("timeout"));
  if (timeout) {
    cfg.delivery_timeout = *timeout;
  }

  CK_ASSIGN(const auto crl, section(path, root, "crl",
                                    {"out", "publish_command", "publish_timeout", "max_size",
                                     "check_endpoints", "check_timeout"}));
  CK_ASSIGN(cfg.crl_out, crl.path("out"));
  CK_ASSIGN(auto publish, crl.string_array("publish_command"));
  if (publish) {
    cfg.crl_publish_command = std::move(*publish);
  }
  CK_ASSIGN(const auto publish_timeout, crl.duration("publish_timeout"));
  if (publish_timeout) {
    cfg.crl_publish_timeout = *publish_timeout;
  }
  CK_ASSIGN(cfg.crl_max_size, crl.positive_integer("max_size"));
  CK_ASSIGN(auto check_endpoints, crl.string_array("check_endpoints"));
  if (check_endpoints)
    cfg.crl_check_endpoints = std::move(*check_endpoints);
  CK_ASSIGN(const auto check_timeout, crl.duration("check_timeout"));
  if (check_timeout)
    cfg.crl_check_timeout = *check_timeout;
  CK_TRY(load_notify(path, root, cfg));
  CK_TRY(load_serve(path, root, cfg.serve));
  return cfg;
}

Result<Secret> read_secret_file(const std::filesystem::path& path, std::string_view what) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) {
    return fail(Code::NotFound, std::string(what) + " '" + path.string() + "' does not exist");
  }
  if ((sb.st_mode & 077) != 0) {
    return fail(Code::PermissionDenied, std::string(what) + " '" + path.string() +
                                            "' can be read by others (chmod 600 it)");
  }
  CK_ASSIGN(auto text, read_file(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  if (text.empty()) {
    return fail(Code::InvalidArgument, std::string(what) + " '" + path.string() + "' is empty");
  }
  return Secret(std::move(text));
}

}  // namespace ck::cli
