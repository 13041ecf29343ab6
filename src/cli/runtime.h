#pragma once
// What every command needs, built once from the global options: the home
// folder, the store, the clock, the CA passphrase, the output mode.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acme/service.h"
#include "ca/authority.h"
#include "cli/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/pem.h"
#include "core/random.h"
#include "notify/notifier.h"
#include "rekey/passphrase_change.h"
#include "rollout/runner.h"
#include "servercert/inventory.h"
#include "store/store.h"
#include "token/token.h"

namespace ck::cli {

struct GlobalOptions {
  std::string home;
  std::string store_url;
  std::string config;
  bool json = false;
  bool quiet = false;
};

/// Exit codes (README, "Concepts").
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitProblems = 3;

/// How a command ends: the exit code it chose (kExitOk; kExitProblems when a
/// check found problems; kExitError when it reported its failures itself as
/// it went, such as notify's failed channels), or the error that stopped it.
/// run() (app.cpp) is the one place that turns an error into the
/// `certkeeper: error: ...` line and exit 1.
using Exit = Result<int>;

/// Everything one `notify` run needs, built from the config: the templates,
/// the configured channels, and the lock that keeps a second run out.
struct NotifySetup {
  FileLock lock;
  notify::TemplateSet templates;
  std::unique_ptr<notify::TicketChannel> tickets;
  std::unique_ptr<notify::MailChannel> mail;
  std::unique_ptr<notify::Notifier> notifier;
};

/// A --within window, as written (for messages) and as a duration.
struct Window {
  std::string text;
  std::chrono::seconds length{};
};

class Runtime {
 public:
  explicit Runtime(const Clock& clock) : clock_(clock) {}

  GlobalOptions global;
  /// Set by the chosen command's parse callback; run after parsing.
  std::function<Exit()> action;

  [[nodiscard]] std::filesystem::path home() const;
  /// Lets this command create the home folder and its store when they do not
  /// exist yet: only commands that put the first thing in a store call it
  /// (ca init, ca import, acme issue, cert import). Every other command on a
  /// home without a store fails and creates nothing.
  void allow_store_creation() { open_mode_ = store::OpenMode::Create; }
  /// After a command failed: removes the store (and the home folder) this run
  /// created, when it still holds nothing. Bad input changes nothing.
  void discard_failed_creation();
  [[nodiscard]] Result<ca::Authority*> authority();
  /// For a command that stores a new CA key (ca init, ca import), before it
  /// opens anything: the passphrase that will encrypt it. A configured one
  /// is used (with `no_passphrase` that is a contradiction, refused); else a
  /// person at the terminal is asked twice; else `no_passphrase` must say
  /// the key is to be kept unencrypted. A key in a token needs none.
  [[nodiscard]] Status settle_new_ca_passphrase(bool no_passphrase, bool key_in_token);
  /// Moves every stored key and sealed backup to `next` (rekey/), opened
  /// with this run's passphrase.
  [[nodiscard]] Result<rekey::PassphraseChangeReport> change_passphrase(const Secret& next);
  /// Where this run's passphrase came from, for messages: "CERTKEEPER_CA_PASSPHRASE",
  /// "[ca] passphrase_file", "the terminal" or "" (none).
  [[nodiscard]] const std::string& passphrase_origin() const { return passphrase_origin_; }
  /// The configuration (and secrets) without opening the store.
  [[nodiscard]] Result<const Config*> configuration();
  /// A CA service over another store than the home's (a backup being
  /// verified), with this run's passphrase and token.
  [[nodiscard]] Result<std::unique_ptr<ca::Authority>> authority_for(store::Store& other);
  /// The store itself, for a module that reads it whole (serve).
  [[nodiscard]] Result<store::Store*> store();
  /// Who acts, for audit entries: "login@host" (the login behind sudo).
  [[nodiscard]] static std::string actor();
  /// The store's server certificates (keys encrypted with the CA passphrase).
  [[nodiscard]] Result<servercert::Inventory*> inventory();
  /// The ACME client service over the inventory; `progress` gets each step.
  [[nodiscard]] Result<std::unique_ptr<acme::Service>> acme_service(acme::Progress progress);
  /// The rollout runner over the store's journal (plan locks in the home).
  [[nodiscard]] Result<std::unique_ptr<rollout::Runner>> rollout_runner();
  /// The configured out-of-band password delivery, or an empty sink.
  [[nodiscard]] Result<ca::PasswordSink> password_sink();
  /// The configured [crl] publish_command, or an empty publisher.
  [[nodiscard]] Result<ca::CrlPublisher> crl_publisher();
  /// Templates and channels of [notify]/[smtp]/[ticket.*], secrets read, and
  /// the home's notify lock held (waits for a running notify to finish).
  [[nodiscard]] Result<std::unique_ptr<NotifySetup>> notify_setup();
  /// The window of `notify` and `expiring`: --within `flag`, else [notify]
  /// within, else 14d.
  [[nodiscard]] Result<Window> window(const std::string& flag);
  /// The loaded configuration (loads it first).
  [[nodiscard]] Result<const Config*> config();
  /// The store's URL: --store / CERTKEEPER_STORE, else [store] url, else the
  /// home's SQLite file. Loads the configuration, opens nothing (`store
  /// migrate` works on a store no other command may open yet).
  [[nodiscard]] Result<std::string> resolve_store_url();
  [[nodiscard]] const Clock& clock() const { return clock_; }
  [[nodiscard]] bool json() const { return global.json; }
  /// --quiet: no progress and no text summary of what was done (the exit
  /// code says it). Still printed: errors and warnings, --json output, what
  /// a command is asked to show (a list, a report, a problem found), and a
  /// password shown once (it exists nowhere else).
  [[nodiscard]] bool quiet() const { return global.quiet; }

  /// Prints `certkeeper: error: …` (and its detail under CERTKEEPER_DEBUG)
  /// and returns kExitError. run() calls it for a command's error; a command
  /// calls it only when more follows the error line (what to run next, or the
  /// output the error is about).
  int report_error(const Error& e) const;
  void warn(const std::string& message) const;
  void print_json(const nlohmann::json& j) const;
  /// Prints a JSON array one compact element per line, converting as it goes
  /// (a listing of 100,000 certificates never exists as one JSON tree).
  template <class T, class ToJson>
  void print_json_array(const std::vector<T>& items, ToJson to_json) const;

 private:
  [[nodiscard]] Status open();
  [[nodiscard]] Status ask_for_stored_key_passphrase();
  /// The CA and server certificate services over the open store, with this
  /// run's passphrase (again after a passphrase was asked for).
  void build_services();
  /// The configuration, the CA passphrase and the token settings (once).
  [[nodiscard]] Status load_secrets();
  [[nodiscard]] Status load_configuration();
  [[nodiscard]] std::string store_url() const;
  void write_out(const std::string& text) const;
  friend class JsonArrayWriter;
  const Clock& clock_;
  store::OpenMode open_mode_ = store::OpenMode::Existing;
  bool created_home_ = false;  // this run made the home folder
  bool created_db_ = false;    // ... and the SQLite file
  SystemRandom random_;
  std::unique_ptr<store::Store> store_;
  std::optional<Secret> passphrase_;
  std::string passphrase_origin_;
  Config config_;
  std::unique_ptr<token::Token> token_;  // before authority_: it outlives the keys
  bool config_loaded_ = false;
  std::unique_ptr<ca::Authority> authority_;
  std::unique_ptr<servercert::Inventory> inventory_;
};

/// Writes a JSON array to stdout one compact element per line, as elements
/// arrive, in 64 KiB writes.
class JsonArrayWriter {
 public:
  explicit JsonArrayWriter(const Runtime& rt);
  void add(const nlohmann::json& element);
  /// Adds an element its caller already wrote as compact JSON into `element`;
  /// `element` is emptied for reuse.
  void add_raw(std::string& element);
  /// Writes what is buffered and flushes stdout: the elements so far are out
  /// even if the process dies next.
  void flush();
  void finish();

 private:
  void flush_if_full();
  const Runtime& rt_;
  std::string buffer_ = "[";
  bool empty_ = true;
};

template <class T, class ToJson>
void Runtime::print_json_array(const std::vector<T>& items, ToJson to_json) const {
  JsonArrayWriter writer(*this);
  for (const auto& item : items)
    writer.add(to_json(item));
  writer.finish();
}

/// "2026-11-23T08:00:00Z"
std::string iso(Seconds t);

}  // namespace ck::cli
