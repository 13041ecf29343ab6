#include "cli/runtime.h"

#include "cli/passphrase_prompt.h"

#include "core/duration.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <set>

#include "ca/crl_publish.h"
#include "cli/config.h"
#include "core/argv_template.h"
#include "core/file_io.h"
#include "core/printable.h"
#include "core/subprocess.h"
#include "core/time_format.h"
#include "notify/delivery.h"
#include "notify/template.h"

namespace ck::cli {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

}  // namespace

// Who acts, for the audit log: the login behind sudo if there is one.
std::string Runtime::actor() {
  std::string user = env("SUDO_USER");
  if (user.empty())
    user = env("USER");
  if (user.empty()) {
    if (const passwd* pw = ::getpwuid(::getuid()))
      user = pw->pw_name;
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return (user.empty() ? "unknown" : user) + "@" + host;
}

namespace {

// A secret from the environment, else from its 0600 file, else none.
Result<std::optional<Secret>> optional_secret(const char* env_name,
                                              const std::optional<std::filesystem::path>& file,
                                              std::string_view what) {
  if (auto value = env(env_name); !value.empty())
    return std::optional<Secret>(Secret(std::move(value)));
  if (!file)
    return std::optional<Secret>();
  CK_ASSIGN(auto secret, read_secret_file(*file, what));
  return std::optional<Secret>(std::move(secret));
}

// Renders a configured argv (no shell), runs it with `input` on stdin and
// fails on a non-zero exit. `label` starts the error; the command's output is
// quoted only when `quote_output` (never for a command that was handed a
// secret: it might echo it).
Status run_configured(const std::vector<std::string>& argv, const Variables& vars,
                      const std::string& what, std::string_view input, std::chrono::seconds timeout,
                      const std::string& label, bool quote_output) {
  CK_ASSIGN(const auto command, render_argv(argv, vars, what));
  CommandOptions opts;
  opts.input = input;
  opts.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  if (!command.empty())
    opts.name = label + "'" + command[0] + "'";
  opts.quote_output = quote_output;
  return run_command(command, opts);
}

}  // namespace

std::string iso(Seconds t) {
  return format_iso8601(t);
}

std::filesystem::path Runtime::home() const {
  if (!global.home.empty())
    return global.home;
  if (auto h = env("CERTKEEPER_HOME"); !h.empty())
    return h;
  if (auto x = env("XDG_DATA_HOME"); !x.empty())
    return std::filesystem::path(x) / "certkeeper";
  std::string base = env("HOME");
  if (base.empty()) {
    if (const passwd* pw = ::getpwuid(::getuid()))
      base = pw->pw_dir;
  }
  return std::filesystem::path(base) / ".local" / "share" / "certkeeper";
}

std::string Runtime::store_url() const {
  if (!global.store_url.empty())
    return global.store_url;
  if (config_.store_url && !config_.store_url->empty())
    return *config_.store_url;
  return "sqlite:" + (home() / "certkeeper.db").string();
}

Status Runtime::load_configuration() {
  if (config_loaded_)
    return {};
  const std::filesystem::path config_path =
      global.config.empty() ? home() / "certkeeper.toml" : std::filesystem::path(global.config);
  CK_ASSIGN(config_, load_config(config_path, !global.config.empty()));
  config_loaded_ = true;
  return {};
}

Result<std::string> Runtime::resolve_store_url() {
  CK_TRY(load_configuration());
  return store_url();
}

Status Runtime::load_secrets() {
  if (token_)
    return {};
  CK_TRY(load_configuration());
  CK_ASSIGN(passphrase_, optional_secret("CERTKEEPER_CA_PASSPHRASE", config_.ca_passphrase_file,
                                         "CA passphrase file"));
  if (passphrase_) {
    passphrase_origin_ = env("CERTKEEPER_CA_PASSPHRASE").empty() ? "[ca] passphrase_file"
                                                                 : "CERTKEEPER_CA_PASSPHRASE";
  }
  // The token is opened only when a CA key in it is used; its settings are
  // read now so a bad PIN file is reported like a bad passphrase file.
  token::TokenConfig token_config;
  if (auto module = env("CERTKEEPER_PKCS11_MODULE"); !module.empty())
    token_config.module = module;
  else if (config_.pkcs11_module)
    token_config.module = *config_.pkcs11_module;
  if (!token_config.module.empty()) {
    CK_ASSIGN(token_config.pin, optional_secret("CERTKEEPER_PKCS11_PIN", config_.pkcs11_pin_file,
                                                "[pkcs11] pin_file"));
  }
  token_ = std::make_unique<token::Token>(std::move(token_config));
  return {};
}

Result<const Config*> Runtime::configuration() {
  CK_TRY(load_secrets());
  return &config_;
}

Result<std::unique_ptr<ca::Authority>> Runtime::authority_for(store::Store& other) {
  CK_TRY(load_secrets());
  auto auth = std::make_unique<ca::Authority>(other, clock_, random_,
                                              passphrase_ ? &*passphrase_ : nullptr, actor());
  auth->set_token(token_.get());
  return auth;
}

Status Runtime::settle_new_ca_passphrase(bool no_passphrase, bool key_in_token) {
  CK_TRY(load_secrets());
  if (key_in_token)
    return {};
  if (passphrase_ && no_passphrase) {
    return fail(Code::InvalidArgument, "--no-passphrase, but a CA passphrase is configured (" +
                                           passphrase_origin_ + "): drop one of them");
  }
  // The store first (made if missing): on a terminal, a home whose keys are
  // encrypted already asks for their passphrase there, and the CA key gets
  // the same one; a store never holds keys under two passphrases.
  CK_TRY(store());
  CK_ASSIGN(auto tx, store_->read());
  if (passphrase_)
    return servercert::check_store_passphrase(*tx, &*passphrase_);
  CK_ASSIGN(const auto stored, servercert::find_encrypted_key(*tx));
  tx.reset();
  if (stored) {
    return fail(Code::FailedPrecondition,
                "this store's keys are encrypted (" + stored->what +
                    "): the CA key gets their passphrase; set CERTKEEPER_CA_PASSPHRASE or [ca] "
                    "passphrase_file");
  }
  if (no_passphrase)
    return {};
  if (!can_ask_passphrase()) {
    return fail(Code::FailedPrecondition,
                "no CA passphrase configured and no terminal to ask for one: set "
                "CERTKEEPER_CA_PASSPHRASE or [ca] passphrase_file, or pass --no-passphrase to "
                "store the CA key unencrypted");
  }
  CK_ASSIGN(auto secret, ask_new_passphrase("the CA key"));
  passphrase_.emplace(std::move(secret));
  passphrase_origin_ = "the terminal";
  build_services();
  return {};
}

// A person running a command on a terminal, with no passphrase configured,
// is asked for the passphrase of the store's encrypted keys before anything
// is built on the store, so every module gets the same one. What is typed is
// checked against a stored key (a typo would otherwise encrypt new keys under
// it); three wrong answers end the run. An empty answer goes on without (a
// listing needs no key; a command that needs one then says it is encrypted).
Status Runtime::ask_for_stored_key_passphrase() {
  if (passphrase_ || !can_ask_passphrase())
    return {};
  CK_ASSIGN(auto tx, store_->read());
  CK_ASSIGN(const auto stored, servercert::find_encrypted_key(*tx));
  tx.reset();
  if (!stored)
    return {};
  const std::string prompt =
      stored->what == "the CA key"
          ? "Passphrase of the CA key (Enter to go on without): "
          : "CA passphrase (it encrypts " + stored->what + "; Enter to go on without): ";
  for (int attempt = 1;; ++attempt) {
    CK_ASSIGN(auto secret, ask_passphrase(prompt));
    if (secret.empty())
      return {};
    if (parse_private_key(stored->pem, stored->what, &secret)) {
      passphrase_.emplace(std::move(secret));
      passphrase_origin_ = "the terminal";
      return {};
    }
    if (attempt == 3)
      return fail(Code::PermissionDenied, "wrong CA passphrase (three times)");
    std::cerr << "wrong passphrase, try again\n";
  }
}

Result<rekey::PassphraseChangeReport> Runtime::change_passphrase(const Secret& next) {
  CK_ASSIGN(auto* st, store());
  return rekey::change_passphrase(*st, passphrase_ ? &*passphrase_ : nullptr, next, random_, clock_,
                                  actor());
}

Status Runtime::open() {
  const auto dir = home();
  // The configuration first: a bad --config must not leave a new home behind.
  CK_TRY(load_secrets());
  const std::string url = store_url();
  if (open_mode_ == store::OpenMode::Create) {
    std::error_code ec;
    created_home_ = !std::filesystem::exists(dir, ec);
    if (auto st = ensure_writable_dir(dir); !st) {
      return fail(std::move(st).error().context("home"));
    }
    if (const auto file = store::local_file(url))
      created_db_ = !std::filesystem::exists(*file, ec);
  }
  auto opened = store::open_store(url, open_mode_);
  if (!opened && opened.error().code == Code::NotFound) {
    const std::string where = store::local_file(url) && global.store_url.empty()
                                  ? "in home '" + dir.string() + "'"
                                  : "at '" + store::display_url(url) + "'";
    return fail(Code::FailedPrecondition,
                "no certkeeper store " + where + " (" + opened.error().message +
                    "): create one with `certkeeper ca init --name NAME` (or ca import, "
                    "cert import, acme issue), or choose the home with --home or "
                    "CERTKEEPER_HOME");
  }
  if (!opened)
    return fail(std::move(opened).error());
  store_ = std::move(*opened);
  CK_TRY(ask_for_stored_key_passphrase());
  build_services();
  return {};
}

void Runtime::build_services() {
  authority_ = std::make_unique<ca::Authority>(*store_, clock_, random_,
                                               passphrase_ ? &*passphrase_ : nullptr, actor());
  authority_->set_token(token_.get());
  inventory_ = std::make_unique<servercert::Inventory>(
      *store_, clock_, passphrase_ ? &*passphrase_ : nullptr, actor());
}

void Runtime::discard_failed_creation() {
  if (!created_db_ && !created_home_)
    return;
  authority_.reset();
  inventory_.reset();
  token_.reset();
  store_.reset();
  std::error_code ec;
  const std::string url = store_url();
  // Only a store that still holds nothing: what a failed first command made
  // would otherwise read as an empty inventory.
  const auto file = store::local_file(url);
  if (created_db_ && file && !store::open_store(url, store::OpenMode::Existing)) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::filesystem::remove(file->string() + suffix, ec);
  }
  if (created_home_)
    std::filesystem::remove(home(), ec);  // only when empty
}

Result<servercert::Inventory*> Runtime::inventory() {
  if (!authority_) {
    CK_TRY(open());
  }
  return inventory_.get();
}

Result<std::unique_ptr<acme::Service>> Runtime::acme_service(acme::Progress progress) {
  CK_ASSIGN(auto* inv, inventory());
  return std::make_unique<acme::Service>(
      *store_, *inv, clock_, passphrase_ ? &*passphrase_ : nullptr, std::move(progress));
}

Result<std::unique_ptr<rollout::Runner>> Runtime::rollout_runner() {
  CK_ASSIGN(auto* inv, inventory());
  return std::make_unique<rollout::Runner>(*store_, *inv, clock_,
                                           passphrase_ ? &*passphrase_ : nullptr, random_, home());
}

Result<ca::Authority*> Runtime::authority() {
  if (!authority_) {
    CK_TRY(open());
  }
  return authority_.get();
}

Result<store::Store*> Runtime::store() {
  if (!authority_) {
    CK_TRY(open());
  }
  return store_.get();
}

Result<ca::PasswordSink> Runtime::password_sink() {
  if (!authority_) {
    CK_TRY(open());
  }
  if (config_.delivery_command.empty()) {
    return ca::PasswordSink();
  }
  return ca::PasswordSink([argv = config_.delivery_command, timeout = config_.delivery_timeout](
                              const Secret& password, const store::UserProfile& user,
                              const std::string& serial) -> Status {
    CK_ASSIGN(const notify::Variables vars, notify::delivery_variables(argv, user, serial));
    // The password goes to standard input only: argv and the environment can
    // be read by other users of the machine (ps, /proc).
    const Secret input(password.reveal() + "\n");
    return run_configured(argv, vars, "[delivery] command", input.reveal(), timeout,
                          "password delivery ", false);
  });
}

Result<const Config*> Runtime::config() {
  if (!authority_) {
    CK_TRY(open());
  }
  return &config_;
}

Result<ca::CrlPublisher> Runtime::crl_publisher() {
  CK_ASSIGN(const auto* cfg, config());
  if (cfg->crl_publish_command.empty()) {
    return ca::CrlPublisher();
  }
  return ca::CrlPublisher([argv = cfg->crl_publish_command, timeout = cfg->crl_publish_timeout](
                              const ca::CrlBuilt& built) -> Status {
    const notify::Variables vars = ca::publish_variables(built);
    return run_configured(argv, vars, "[crl] publish_command", "", timeout, "", true);
  });
}

Result<std::unique_ptr<NotifySetup>> Runtime::notify_setup() {
  if (!authority_) {
    CK_TRY(open());
  }
  const auto& n = config_.notify;
  CK_ASSIGN(auto lock, FileLock::acquire(home() / "notify.lock"));
  CK_ASSIGN(auto templates, notify::TemplateSet::load(n.templates));
  auto setup = std::make_unique<NotifySetup>(
      NotifySetup{std::move(lock), std::move(templates), nullptr, nullptr, nullptr});
  const notify::HttpSettings http{std::chrono::duration_cast<std::chrono::milliseconds>(n.timeout),
                                  n.ca_file};
  const auto& t = config_.ticket;
  if (n.ticket == "link") {
    setup->tickets = notify::link_tickets(t.link_url);
  } else if (n.ticket == "conduit") {
    CK_ASSIGN(auto token, optional_secret("CERTKEEPER_CONDUIT_TOKEN", t.conduit_token_file,
                                          "Conduit token file"));
    if (!token) {
      return fail(Code::InvalidArgument,
                  "notify.ticket = \"conduit\" needs an API token: [ticket.conduit] token_file "
                  "or CERTKEEPER_CONDUIT_TOKEN");
    }
    setup->tickets =
        notify::conduit_tickets(t.conduit_url, std::move(*token), t.conduit_projects, http);
  } else if (n.ticket == "webhook") {
    CK_ASSIGN(auto token, optional_secret("CERTKEEPER_WEBHOOK_TOKEN", t.webhook_token_file,
                                          "webhook token file"));
    setup->tickets =
        notify::webhook_tickets(t.webhook_url, std::move(token),
                                setup->templates.text("webhook_body"), t.webhook_id_field, http);
  }
  if (n.email == "mailto") {
    setup->mail = notify::mailto_mail();
  } else if (n.email == "smtp") {
    const auto& c = config_.smtp;
    net::SmtpSettings smtp;
    smtp.url = c.url;
    smtp.starttls = c.starttls;
    smtp.username = c.username;
    smtp.ca_file = c.ca_file;
    smtp.timeout = http.timeout;
    smtp.allow_plaintext_auth = c.allow_plaintext_auth;
    // Before anything is sent or recorded, not at the first mail.
    CK_TRY(net::check_auth_transport(smtp));
    CK_ASSIGN(smtp.password,
              optional_secret("CERTKEEPER_SMTP_PASSWORD", c.password_file, "SMTP password file"));
    setup->mail = notify::smtp_mail(std::move(smtp), c.from, clock_, random_);
  }
  setup->notifier = std::make_unique<notify::Notifier>(
      *store_, clock_, setup->templates, setup->tickets.get(), setup->mail.get(), actor());
  return setup;
}

Result<Window> Runtime::window(const std::string& flag) {
  std::string text = flag;
  if (text.empty()) {
    CK_ASSIGN(const auto* cfg, config());
    text = cfg->notify.within.value_or("14d");
  }
  auto within = parse_duration(text);
  if (!within)
    return fail(std::move(within).error().context("--within"));
  return Window{std::move(text), *within};
}

int Runtime::report_error(const Error& e) const {
  // Messages quote what was given (names, paths, values, servers' replies).
  std::cerr << "certkeeper: error: " << printable_line(e.message) << "\n";
  if (!e.detail.empty() && !env("CERTKEEPER_DEBUG").empty()) {
    std::cerr << "certkeeper: detail: " << printable_line(e.detail) << "\n";
  }
  return kExitError;
}

void Runtime::warn(const std::string& message) const {
  std::cerr << "certkeeper: warning: " << printable_line(message) << "\n";
}

void Runtime::print_json(const nlohmann::json& j) const {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace ck::cli

namespace ck::cli {

JsonArrayWriter::JsonArrayWriter(const Runtime& rt) : rt_(rt) {}

void JsonArrayWriter::add(const nlohmann::json& element) {
  buffer_ += empty_ ? "\n  " : ",\n  ";
  empty_ = false;
  // Compact, UTF-8 as is: what `--json` has always written; text a server
  // sent that is not UTF-8 becomes U+FFFD rather than an exception.
  buffer_ += element.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  flush_if_full();
}

void JsonArrayWriter::add_raw(std::string& element) {
  buffer_ += empty_ ? "\n  " : ",\n  ";
  empty_ = false;
  buffer_ += element;
  element.clear();
  flush_if_full();
}

void JsonArrayWriter::flush_if_full() {
  if (buffer_.size() > (1 << 16)) {
    rt_.write_out(buffer_);
    buffer_.clear();
  }
}

void JsonArrayWriter::flush() {
  rt_.write_out(buffer_);
  buffer_.clear();
  std::cout.flush();
}

void JsonArrayWriter::finish() {
  buffer_ += empty_ ? "]\n" : "\n]\n";
  rt_.write_out(buffer_);
  buffer_.clear();
}

void Runtime::write_out(const std::string& text) const {
  std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace ck::cli
