#pragma once
// `acme issue` and `acme renew`: an order with the settings an operator gave
// once, the result stored as the next version of a named server certificate,
// and --out files rewritten. Renewals reuse the stored settings.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acme/challenge_type.h"
#include "acme/issue.h"
#include "acme/solver.h"
#include "core/clock.h"
#include "core/keygen.h"
#include "core/pem.h"
#include "servercert/due.h"
#include "servercert/inventory.h"
#include "store/store.h"

namespace ck::acme {

/// Everything `acme issue` was told; stored with the certificate (never a
/// secret) so `acme renew` orders the same again.
struct IssueSettings {
  std::vector<std::string> domains;
  std::string directory;
  ChallengeType challenge = ChallengeType::Http01;
  int http_port = 80;
  std::string http_address = "0.0.0.0";
  std::string webroot;
  std::string dns_hook;
  std::string dns_resolver;
  std::chrono::seconds dns_timeout{120};
  std::string account_key;  // a PEM file; empty: the account certkeeper keeps per directory
  std::string email;
  bool agree_tos = false;
  KeyType key_type = KeyType::EcP256;
  std::string out;        // folder for cert.pem, chain.pem, fullchain.pem, key.pem
  std::string ca_bundle;  // trust for the ACME server's HTTPS
  std::string profile;
  std::chrono::seconds timeout{300};
};

[[nodiscard]] nlohmann::json to_json(const IssueSettings& s);
[[nodiscard]] Result<IssueSettings> settings_from_json(std::string_view text);
/// Checks and normalizes: domains, challenge/solver options, key type.
[[nodiscard]] Status validate(IssueSettings& s);

struct IssueOutcome {
  std::string name;
  bool renewed = false;  // false: not due (renew only)
  servercert::DueDecision due;
  std::optional<servercert::ServerCertView> cert;
  std::string out;  // the --out folder its files were written to ("" for none)
  /// Not due, but its --out files held another certificate than the store's
  /// newest (a renewal whose files failed, or a run killed after the store):
  /// now written. Its deploy work (--deploy-hook) is still to do.
  bool caught_up = false;
  std::vector<std::string> warnings;
  std::optional<Error> error;  // renew --all: one name's failure
  /// A dry run (renew only): nothing stored, no file written. `renewed` and
  /// `caught_up` say what a real run would have done; `checked` lists what
  /// was verified on the way (the account, the profile, a staging order).
  bool dry_run = false;
  std::vector<std::string> checked;
};

class Service {
 public:
  /// Waits (order polling, the dns-01 propagation check) go through `sleep`.
  Service(store::Store& store, servercert::Inventory& inventory, const Clock& clock,
          const Secret* passphrase, Progress progress, Sleep sleep = real_sleep);

  /// Orders a certificate and stores it under `name` (a new version).
  [[nodiscard]] Result<IssueOutcome> issue(const std::string& name, const IssueSettings& settings);

  struct RenewOptions {
    /// Due this long before notAfter, when the server has no renewal info.
    std::optional<std::chrono::seconds> before;
    /// An ACME profile for the new order (kept for later renewals).
    std::string profile;
    /// Decide as a real run does and check everything up to the order (the
    /// server's directory, the account, renewal info, the profile); store
    /// nothing, write no file, order nothing at the real server.
    bool dry_run = false;
    /// With dry_run: order the certificate from this directory instead (a
    /// staging server, certbot's habit), with a throwaway account key; the
    /// certificate is checked and dropped.
    std::string staging_directory;
    /// Trust anchors for the staging server's HTTPS (empty: the system's).
    std::string staging_ca_file;
  };

  /// Renews `name` when due, with the settings stored at issue.
  [[nodiscard]] Result<IssueOutcome> renew(const std::string& name, const RenewOptions& opts);

  /// Renews every stored ACME certificate that is due, `parallel` at a time.
  /// One name's failure does not stop the others.
  [[nodiscard]] Result<std::vector<IssueOutcome>> renew_all(const RenewOptions& opts, int parallel);

 private:
  /// A session with the settings' ACME server, and the new account to store
  /// once the server accepted it.
  struct Connected {
    Client client;
    std::optional<store::AcmeAccountRecord> to_store;  // a new account, once accepted
  };
  [[nodiscard]] Result<Connected> connect(const IssueSettings& settings);
  [[nodiscard]] Result<IssueOutcome> order(const std::string& name, const IssueSettings& settings,
                                           const std::string& replaces, Connected connected);
  /// A dry run's due renewal: what the order needs, checked at the real
  /// server without ordering; or, given a staging directory, the whole order
  /// there with a throwaway account (nothing stored either way).
  [[nodiscard]] Status dry_run_order(const std::string& name, const IssueSettings& settings,
                                     const RenewOptions& opts, Connected& connected,
                                     IssueOutcome& out);
  /// The account key for the settings' directory, and the store row to add
  /// once the server has accepted a new one (nothing is stored for a
  /// directory that turns out to be wrong).
  struct Account {
    AccountKey key;
    std::optional<store::AcmeAccountRecord> to_store;
  };
  [[nodiscard]] Result<Account> account_key(const IssueSettings& settings);
  [[nodiscard]] Status remember(const store::AcmeAccountRecord& account);
  // Writes the --out folder of `name` (nothing when `out` is empty).
  [[nodiscard]] static Status publish(const std::string& name, const std::filesystem::path& out,
                                      const servercert::Material& m);
  [[nodiscard]] Result<std::unique_ptr<Solver>> solver(const IssueSettings& settings);

  store::Store& store_;
  servercert::Inventory& inventory_;
  const Clock& clock_;
  const Secret* passphrase_;
  Progress progress_;
  Sleep sleep_;
  // The store is one connection: every use from a renewal thread goes
  // through this lock (orders themselves run in parallel).
  std::mutex store_mutex_;
  std::mutex responders_mutex_;
  std::map<int, std::shared_ptr<HttpResponder>> responders_;  // by port, shared by orders
};

}  // namespace ck::acme
