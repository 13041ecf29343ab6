#include "cli/config.h"

#include <sys/stat.h>

#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/duration.h"
#include "core/file_io.h"

namespace ck::cli {
namespace {

std::string where(const std::filesystem::path& path, const toml::source_region& src) {
  return "'" + path.string() + "' line " + std::to_string(src.begin.line);
}

Status check_keys(const std::filesystem::path& path, const toml::table& table,
                  const std::string& prefix, const std::set<std::string>& allowed) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (!allowed.contains(name) && (name == "password" || name == "token")) {
      return fail(Code::InvalidArgument,
                  where(path, key.source()) + ": '" + prefix + name +
                      "': secrets are not read from the config text; name a 0600 file with '" +
                      name + "_file' or set the environment variable (docs/configuration.md)");
    }
    if (!allowed.contains(name)) {
      return fail(Code::InvalidArgument,
                  where(path, key.source()) + ": unknown key '" + prefix + name + "'");
    }
  }
  return {};
}

}  // namespace

namespace {

// Typed access to one table of the config; every error names file, line, key.
class Section {
 public:
  Section(const std::filesystem::path& path, const toml::table* table, std::string prefix)
      : path_(path), table_(table), prefix_(std::move(prefix)) {}

  [[nodiscard]] bool present() const { return table_ != nullptr; }

  Result<std::optional<std::string>> string(const char* key) const {
    return typed<std::string>(key, "a string");
  }

  Result<std::optional<std::vector<std::string>>> string_array(const char* key) const {
    const auto* node = table_ ? table_->get(key) : nullptr;
    if (node == nullptr)
      return std::optional<std::vector<std::string>>();
    const auto* arr = node->as_array();
    if (arr == nullptr || arr->empty())
      return wrong(node, key, "a non-empty array of strings");
    std::vector<std::string> out;
    for (const auto& item : *arr) {
      const auto value = item.value<std::string>();
      if (!value)
        return wrong(&item, key, "a non-empty array of strings");
      out.push_back(*value);
    }
    return std::optional<std::vector<std::string>>(std::move(out));
  }

  Result<std::optional<std::chrono::seconds>> duration(const char* key) const {
    CK_ASSIGN(const auto text, string(key));
    if (!text)
      return std::optional<std::chrono::seconds>();
    auto d = parse_duration(*text);
    if (!d)
      return wrong(table_->get(key), key, "a duration such as \"30s\" or \"2d\"");
    return std::optional<std::chrono::seconds>(*d);
  }

  Result<std::optional<bool>> boolean(const char* key) const {
    return typed<bool>(key, "true or false");
  }

  /// A string that must be one of `choices`.
  Result<std::optional<std::string>> choice(const char* key,
                                            const std::vector<std::string>& choices) const {
    return matching(key, choices, "one of ", ", ", "",
                    [](const std::string& value, const std::string& c) { return value == c; });
  }

  /// The sub-table `name` of this one ([ticket.conduit]).
  Result<Section> table(const char* name, const std::set<std::string>& keys) const {
    const auto* node = table_ ? table_->get(name) : nullptr;
    const std::string prefix = prefix_ + name + ".";
    if (node == nullptr)
      return Section(path_, nullptr, prefix);
    const auto* sub = node->as_table();
    if (sub == nullptr)
      return wrong(node, name, "a table");
    CK_TRY(check_keys(path_, *sub, prefix, keys));
    return Section(path_, sub, prefix);
  }

  /// A URL: http(s)://, smtp(s)://, with a host.
  Result<std::optional<std::string>> url(const char* key,
                                         const std::vector<std::string>& schemes) const {
    return matching(key, schemes, "a URL starting with ", " or ", "://",
                    [](const std::string& value, const std::string& scheme) {
                      return value.starts_with(scheme + "://") && value.size() > scheme.size() + 3;
                    });
  }

  Result<std::optional<std::int64_t>> positive_integer(const char* key) const {
    CK_ASSIGN(auto value, typed<std::int64_t>(key, "a positive integer"));
    if (value && *value <= 0)
      return wrong(table_->get(key), key, "a positive integer");
    return value;
  }

  /// A path; relative ones are relative to the config file's folder.
  Result<std::optional<std::filesystem::path>> path(const char* key) const {
    CK_ASSIGN(const auto text, string(key));
    if (!text)
      return std::optional<std::filesystem::path>();
    if (text->empty())
      return wrong(table_->get(key), key, "a non-empty string");
    std::filesystem::path p(*text);
    return std::optional<std::filesystem::path>(p.is_relative() ? path_.parent_path() / p : p);
  }

 private:
  // A value of TOML type T, or none when the key is absent.
  template <class T>
  Result<std::optional<T>> typed(const char* key, const char* what) const {
    const auto* node = table_ ? table_->get(key) : nullptr;
    if (node == nullptr)
      return std::optional<T>();
    const auto value = node->value<T>();
    if (!value)
      return wrong(node, key, what);
    return std::optional<T>(*value);
  }

  // A string for which `accepts(value, candidate)` holds for some candidate;
  // the error lists them: prefix + c1 + suffix + sep + c2 + suffix...
  template <class Accepts>
  Result<std::optional<std::string>> matching(const char* key,
                                              const std::vector<std::string>& candidates,
                                              const std::string& prefix, const char* sep,
                                              const char* suffix, Accepts accepts) const {
    CK_ASSIGN(auto value, string(key));
    if (!value)
      return value;
    std::string list;
    for (const auto& c : candidates) {
      if (accepts(*value, c))
        return value;
      list += (list.empty() ? "" : sep) + c + suffix;
    }
    const std::string what = prefix + list;
    return wrong(table_->get(key), key, what.c_str());
  }

  tl::unexpected<Error> wrong(const toml::node* node, const char* key, const char* what) const {
    return fail(Code::InvalidArgument,
                where(path_, node->source()) + ": '" + prefix_ + key + "' must be " + what);
  }

  const std::filesystem::path& path_;
  const toml::table* table_;
  std::string prefix_;
};

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

  CK_ASSIGN(const auto smtp,
            section(path, root, "smtp",
                    {"url", "from", "starttls", "username", "password_file", "ca_file"}));
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
  CK_ASSIGN(const auto text, read_file(path));
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    return fail(Code::InvalidArgument,
                where(path, e.source()) + ": " + std::string(e.description()));
  }
  CK_TRY(check_keys(path, root, "", {"ca", "delivery", "crl", "notify", "smtp", "ticket"}));

  CK_ASSIGN(const auto ca, section(path, root, "ca", {"passphrase_file"}));
  CK_ASSIGN(cfg.ca_passphrase_file, ca.path("passphrase_file"));

  CK_ASSIGN(const auto delivery, section(path, root, "delivery", {"command", "timeout"}));
  CK_ASSIGN(auto command, delivery.string_array("command"));
  if (command)
    cfg.delivery_command = std::move(*command);
  CK_ASSIGN(const auto timeout, delivery.duration("timeout"));
  if (timeout) {
    cfg.delivery_timeout = *timeout;
  }

  CK_ASSIGN(const auto crl,
            section(path, root, "crl", {"out", "publish_command", "publish_timeout", "max_size"}));
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
  CK_TRY(load_notify(path, root, cfg));
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
