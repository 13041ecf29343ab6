#include "acme/service.h"

#include <atomic>
#include <thread>

#include "core/duration.h"
#include "core/fault.h"
#include "core/file_io.h"
#include "core/fingerprint.h"
#include "core/pem.h"

namespace ck::acme {
namespace {

constexpr int kMaxParallel = 64;

template <class T>
void read_opt(const nlohmann::json& j, const char* key, T& out) {
  if (const auto it = j.find(key); it != j.end() && !it->is_null())
    out = it->get<T>();
}

}  // namespace

nlohmann::json to_json(const IssueSettings& s) {
  return nlohmann::json{{"domains", s.domains},
                        {"directory", s.directory},
                        {"challenge", std::string(to_string(s.challenge))},
                        {"http_port", s.http_port},
                        {"http_address", s.http_address},
                        {"webroot", s.webroot},
                        {"dns_hook", s.dns_hook},
                        {"dns_resolver", s.dns_resolver},
                        {"dns_timeout_s", s.dns_timeout.count()},
                        {"account_key", s.account_key},
                        {"email", s.email},
                        {"agree_tos", s.agree_tos},
                        {"key_type", std::string(key_type_name(s.key_type))},
                        {"out", s.out},
                        {"ca_bundle", s.ca_bundle},
                        {"profile", s.profile},
                        {"timeout_s", s.timeout.count()}};
}

Result<IssueSettings> settings_from_json(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(Code::Storage, "stored ACME settings are not a JSON object");
  IssueSettings s;
  std::string challenge(to_string(s.challenge));
  std::string key_type(key_type_name(s.key_type));
  try {
    read_opt(j, "domains", s.domains);
    read_opt(j, "directory", s.directory);
    read_opt(j, "challenge", challenge);
    read_opt(j, "http_port", s.http_port);
    read_opt(j, "http_address", s.http_address);
    read_opt(j, "webroot", s.webroot);
    read_opt(j, "dns_hook", s.dns_hook);
    read_opt(j, "dns_resolver", s.dns_resolver);
    std::int64_t dns_timeout = s.dns_timeout.count();
    read_opt(j, "dns_timeout_s", dns_timeout);
    s.dns_timeout = std::chrono::seconds(dns_timeout);
    read_opt(j, "account_key", s.account_key);
    read_opt(j, "email", s.email);
    read_opt(j, "agree_tos", s.agree_tos);
    read_opt(j, "key_type", key_type);
    read_opt(j, "out", s.out);
    read_opt(j, "ca_bundle", s.ca_bundle);
    read_opt(j, "profile", s.profile);
    std::int64_t timeout = s.timeout.count();
    read_opt(j, "timeout_s", timeout);
    s.timeout = std::chrono::seconds(timeout);
  } catch (const nlohmann::json::exception& e) {
    return fail(Code::Storage, std::string("stored ACME settings: ") + e.what());
  }
  const auto stored = [](const Error& e) {
    return Error{Code::Storage, "stored ACME settings: " + e.message, {}};
  };
  CK_ASSIGN(s.challenge, parse_challenge_type(challenge).map_error(stored));
  CK_ASSIGN(s.key_type, parse_key_type(key_type).map_error(stored));
  return s;
}

Status validate(IssueSettings& s) {
  if (s.domains.empty())
    return fail(Code::InvalidArgument, "give at least one --domain");
  for (auto& d : s.domains) {
    CK_ASSIGN(d, normalize_domain(d));
  }
  if (s.directory.rfind("https://", 0) != 0 && s.directory.rfind("http://", 0) != 0) {
    return fail(Code::InvalidArgument, "invalid --directory '" + s.directory +
                                           "' (an https:// URL of the ACME directory)");
  }
  if (s.key_type == KeyType::Ed25519) {
    return fail(Code::InvalidArgument, "--key-type " + std::string(key_type_name(s.key_type)) +
                                           " is not one ACME servers issue for (use ec-p256, "
                                           "ec-p384, rsa-2048, rsa-3072 or rsa-4096)");
  }
  switch (s.challenge) {
    case ChallengeType::Http01:
      for (const auto& d : s.domains) {
        if (d.starts_with("*."))
          return fail(Code::InvalidArgument,
                      d + ": a wildcard can only be validated with --challenge dns-01");
      }
      if (s.webroot.empty() && (s.http_port <= 0 || s.http_port > 65535)) {
        return fail(Code::InvalidArgument,
                    "invalid --http-port " + std::to_string(s.http_port) + " (1-65535)");
      }
      break;
    case ChallengeType::Dns01:
      if (s.dns_hook.empty())
        return fail(Code::InvalidArgument, "--challenge dns-01 needs --dns-hook CMD");
      break;
  }
  if (!s.ca_bundle.empty()) {
    CK_TRY(read_file(s.ca_bundle, kPemInput));  // a missing bundle fails before any request
  }
  return {};
}

Service::Service(store::Store& store, servercert::Inventory& inventory, const Clock& clock,
                 const Secret* passphrase, Progress progress, Sleep sleep)
    : store_(store),
      inventory_(inventory),
      clock_(clock),
      passphrase_(passphrase),
      progress_(std::move(progress)),
      sleep_(std::move(sleep)) {}

Result<Service::Account> Service::account_key(const IssueSettings& s) {
  if (!s.account_key.empty()) {
    CK_ASSIGN(auto key, load_private_key(s.account_key, nullptr));
    CK_ASSIGN(auto account, AccountKey::from(std::move(key)));
    return Account{std::move(account), std::nullopt};
  }
  {
    std::lock_guard lock(store_mutex_);
    CK_ASSIGN(auto tx, store_.read());
    CK_ASSIGN(auto rec, tx->find_acme_account(s.directory));
    if (rec) {
      if (rec->key_encrypted && (passphrase_ == nullptr || passphrase_->empty())) {
        return fail(Code::FailedPrecondition,
                    "the ACME account key for " + s.directory +
                        " is encrypted; set CERTKEEPER_CA_PASSPHRASE to use it");
      }
      CK_ASSIGN(auto key, parse_private_key(rec->key_pem, "stored ACME account key",
                                            rec->key_encrypted ? passphrase_ : nullptr));
      CK_ASSIGN(auto account, AccountKey::from(std::move(key)));
      return Account{std::move(account), std::nullopt};
    }
    // A new account key is stored under this run's passphrase: the store's
    // other keys must open with it.
    CK_TRY(servercert::check_store_passphrase(*tx, passphrase_));
  }
  CK_ASSIGN(auto key, generate_key(KeyType::EcP256));
  const bool encrypt = passphrase_ != nullptr && !passphrase_->empty();
  CK_ASSIGN(auto pem, private_key_to_pem(*key, encrypt ? passphrase_ : nullptr));
  CK_ASSIGN(auto account, AccountKey::from(std::move(key)));
  return Account{std::move(account), store::AcmeAccountRecord{s.directory, std::move(pem), encrypt,
                                                              s.email, clock_.now_seconds()}};
}

Status Service::remember(const store::AcmeAccountRecord& account) {
  std::lock_guard lock(store_mutex_);
  CK_ASSIGN(auto tx, store_.write());
  // Two first runs at once: the first row stays; the other account also
  // exists at the server and is simply not used again.
  CK_TRY(tx->insert_acme_account(account));
  return tx->commit();
}

Result<std::unique_ptr<Solver>> Service::solver(const IssueSettings& s) {
  if (s.challenge == ChallengeType::Dns01) {
    DnsHookOptions opts;
    opts.hook = s.dns_hook;
    opts.resolver = s.dns_resolver;
    opts.propagation_timeout = s.dns_timeout;
    return dns01_hook(std::move(opts), clock_, sleep_);
  }
  if (!s.webroot.empty())
    return http01_webroot(s.webroot);
  std::lock_guard lock(responders_mutex_);
  auto& responder = responders_[s.http_port];
  if (!responder) {
    CK_ASSIGN(responder, HttpResponder::start(s.http_address, s.http_port));
  }
  return http01_responder(responder);
}

Result<Service::Connected> Service::connect(const IssueSettings& s) {
  CK_ASSIGN(auto account, account_key(s));
  ClientOptions copts;
  copts.directory_url = s.directory;
  if (!s.ca_bundle.empty())
    copts.ca_bundle = s.ca_bundle;
  copts.clock = &clock_;
  CK_ASSIGN(auto client, Client::connect(copts, std::move(account.key)));
  return Connected{std::move(client), std::move(account.to_store)};
}

namespace {

// The settings' profile must be one the server's directory lists.
Status check_profile(const Client& client, const IssueSettings& s) {
  if (s.profile.empty())
    return {};
  const auto& profiles = client.directory().profiles;
  if (std::find(profiles.begin(), profiles.end(), s.profile) != profiles.end())
    return {};
  std::string offered;
  for (const auto& p : profiles)
    offered += (offered.empty() ? "" : ", ") + p;
  return fail(Code::InvalidArgument,
              "--profile " + s.profile + ": the ACME server offers " +
                  (offered.empty() ? std::string("no profiles") : "only " + offered));
}

// What writing a certificate's --out files needs, made nothing (dry runs).
Status out_writable(const std::string& out) {
  return check_writable_dir(out).map_error([](Error e) { return std::move(e).context("--out"); });
}

std::string join_domains(const std::vector<std::string>& domains) {
  std::string out;
  for (const auto& d : domains)
    out += (out.empty() ? "" : ", ") + d;
  return out;
}

}  // namespace

Result<IssueOutcome> Service::order(const std::string& name, const IssueSettings& s,
                                    const std::string& replaces, Connected connected) {
  Client& client = connected.client;
  CK_TRY(check_profile(client, s));
  // A new account key is stored before the server hears of it: a run killed
  // in between registers the same key again (the server answers with the
  // existing account) instead of making a second account with a new key.
  if (connected.to_store) {
    CK_TRY(remember(*connected.to_store));
  }
  CK_TRY(client.register_account(s.email, s.agree_tos));
  CK_FAULT_POINT("acme.after_account");
  CK_ASSIGN(auto solve, solver(s));
  OrderRequest req;
  req.domains = s.domains;
  req.key_type = s.key_type;
  req.replaces = replaces;
  req.profile = s.profile;
  req.timeout = s.timeout;
  const Progress named = [this, &name](const std::string& step) { progress_(name + ": " + step); };
  CK_ASSIGN(auto issued, acme::issue(client, *solve, req, clock_, sleep_, named));

  servercert::Material m{std::move(issued.cert), std::move(issued.chain), std::move(issued.key)};
  CK_TRY(servercert::check_material(m, clock_.now_seconds(), "the issued certificate"));
  IssueOutcome out;
  out.name = name;
  out.renewed = true;
  out.out = s.out;
  out.warnings = std::move(issued.warnings);
  {
    std::lock_guard lock(store_mutex_);
    CK_ASSIGN(const auto rec, inventory_.save(name, "acme", m, to_json(s).dump()));
    CK_ASSIGN(out.cert, inventory_.view(rec));
  }
  // Stored, not yet published: `acme renew` (due or not) writes --out.
  CK_FAULT_POINT("acme.after_store");
  // The store holds the certificate first: files that fail to write can be
  // written again from it, a stored certificate cannot be ordered again.
  CK_TRY(publish(name, s.out, m));
  return out;
}

namespace {

// Whether the --out folder's cert.pem holds the certificate `der` (a file
// missing or unreadable does not).
bool files_hold(const std::filesystem::path& out, std::string_view der) {
  auto text = read_file(out / "cert.pem", kPemInput);
  if (!text)
    return false;
  auto chain = parse_cert_chain(*text, "cert.pem");
  if (!chain || chain->empty())
    return false;
  auto served = cert_to_der(*chain->front());
  return served && *served == der;
}

}  // namespace

Status Service::publish(const std::string& name, const std::filesystem::path& out,
                        const servercert::Material& m) {
  if (out.empty())
    return {};
  if (auto st = servercert::write_out(out, m); !st) {
    return fail(Code::Storage, st.error().message + " (the certificate is stored as '" + name +
                                   "'; fix the folder and run `acme renew --name " + name +
                                   "`, or export it)");
  }
  return {};
}

Result<IssueOutcome> Service::issue(const std::string& name, const IssueSettings& settings) {
  IssueSettings s = settings;
  CK_TRY(validate(s));
  CK_ASSIGN(auto connected, connect(s));
  return order(name, s, "", std::move(connected));
}

Result<IssueOutcome> Service::renew(const std::string& name, const RenewOptions& opts) {
  store::ServerCertRecord rec;
  {
    std::lock_guard lock(store_mutex_);
    CK_ASSIGN(rec, inventory_.find(name));
  }
  if (rec.source != "acme") {
    return fail(Code::FailedPrecondition,
                "'" + name +
                    "' was imported, not issued by ACME: import its successor with "
                    "`certkeeper cert import --name " +
                    name + "`");
  }
  CK_ASSIGN(auto s, settings_from_json(rec.settings));
  if (!opts.profile.empty())
    s.profile = opts.profile;
  CK_TRY(validate(s));
  CK_ASSIGN(const auto cert, cert_from_der(rec.cert_der));

  // RFC 9773: ask the server when it wants the renewal, if it says.
  std::optional<servercert::RenewalWindow> ari;
  std::string replaces;
  CK_ASSIGN(auto connected, connect(s));
  {
    Client& client = connected.client;
    auto cert_id = renewal_cert_id(*cert);
    if (!client.directory().renewal_info.empty() && !cert_id) {
      progress_(name + ": no renewal info for it (" + cert_id.error().message +
                "); using the lifetime rule");
    } else if (!client.directory().renewal_info.empty()) {
      replaces = *cert_id;
      auto window = client.renewal_info(replaces);
      if (window)
        ari = servercert::RenewalWindow{window->start, window->end};
      else
        progress_(name + ": renewal info unavailable (" + window.error().message +
                  "); using the lifetime rule");
    }
  }
  IssueOutcome out;
  out.name = name;
  out.out = s.out;
  out.due = servercert::renewal_due(rec.not_before, rec.not_after, clock_.now_seconds(), ari,
                                    opts.before);
  out.dry_run = opts.dry_run;
  if (!out.due.due) {
    CK_ASSIGN(out.cert, inventory_.view(rec));
    // Not due, but the files may lag the store (a run killed or a write that
    // failed after the certificate was stored): they are written from it.
    // Writing the same certificate again changes nothing on disk.
    if (!s.out.empty()) {
      out.caught_up = !files_hold(s.out, rec.cert_der);
      if (opts.dry_run) {
        // What the write below needs: the key opened (nothing stored) and
        // a folder it can write into.
        if (out.caught_up) {
          std::lock_guard lock(store_mutex_);
          CK_TRY(inventory_.load(rec, servercert::KeyUpgrade::Skip));
        }
        CK_TRY(out_writable(s.out));
        return out;
      }
      // Under the store's lock: load() may store the key re-encrypted, and
      // renew_all runs this on several threads sharing one connection.
      servercert::Material m;
      {
        std::lock_guard lock(store_mutex_);
        CK_ASSIGN(m, inventory_.load(rec));
      }
      CK_TRY(publish(name, s.out, m));
    }
    return out;
  }
  if (opts.dry_run) {
    out.renewed = true;  // what a real run would do
    CK_TRY(dry_run_order(name, s, opts, connected, out));
    return out;
  }
  auto due = out.due;
  CK_ASSIGN(out, order(name, s, replaces, std::move(connected)));
  out.due = due;
  return out;
}

Status Service::dry_run_order(const std::string& name, const IssueSettings& s,
                              const RenewOptions& opts, Connected& connected, IssueOutcome& out) {
  Client& client = connected.client;
  CK_TRY(check_profile(client, s));
  out.checked.push_back("directory " + s.directory + " answers");
  if (!s.profile.empty())
    out.checked.push_back("profile " + s.profile + " offered");
  CK_TRY(client.check_account_supported());
  CK_ASSIGN(const bool known, client.account_exists());
  if (!known && !s.agree_tos && !client.directory().terms_of_service.empty()) {
    return fail(
        Code::FailedPrecondition,
        "the server knows no account for the key, and a new one must agree to its terms "
        "(" +
            client.directory().terms_of_service +
            "), which this certificate was issued without: issue it again with --agree-tos");
  }
  out.checked.push_back(
      known ? "the account key opens and the server knows its account"
            : std::string("the server knows no account for the key: a real run registers one") +
                  (connected.to_store ? " (and stores its new key)" : ""));
  // What storing the new certificate and writing its files will need.
  {
    std::lock_guard lock(store_mutex_);
    CK_ASSIGN(auto tx, store_.read());
    CK_TRY(servercert::check_store_passphrase(*tx, passphrase_));
  }
  out.checked.push_back("the store's keys open with this run's passphrase");
  if (!s.out.empty()) {
    CK_TRY(out_writable(s.out));
    out.checked.push_back("--out " + s.out + " can be written");
  }
  if (opts.staging_directory.empty()) {
    out.checked.push_back("would order " + join_domains(s.domains) + " (" +
                          std::string(to_string(s.challenge)) + ")");
    return {};
  }
  // The whole order at the staging server, with a key made for this run
  // and never stored: nothing of it outlives the run.
  IssueSettings staging = s;
  staging.directory = opts.staging_directory;
  staging.profile.clear();  // a staging server need not list the same profiles
  CK_ASSIGN(auto key, generate_key(KeyType::EcP256));
  CK_ASSIGN(auto account, AccountKey::from(std::move(key)));
  ClientOptions copts;
  copts.directory_url = staging.directory;
  if (!opts.staging_ca_file.empty())
    copts.ca_bundle = opts.staging_ca_file;
  copts.clock = &clock_;
  auto fail_staging = [&](Error e) {
    return fail(std::move(e).context("staging " + staging.directory));
  };
  auto staged = Client::connect(copts, std::move(account));
  if (!staged)
    return fail_staging(std::move(staged).error());
  if (auto st = staged->register_account(staging.email, staging.agree_tos); !st)
    return fail_staging(std::move(st).error());
  CK_ASSIGN(auto solve, solver(staging));
  OrderRequest req;
  req.domains = staging.domains;
  req.key_type = staging.key_type;
  req.timeout = staging.timeout;
  const Progress named = [this, &name](const std::string& step) {
    progress_(name + ": staging: " + step);
  };
  auto issued = acme::issue(*staged, *solve, req, clock_, sleep_, named);
  if (!issued)
    return fail_staging(std::move(issued).error());
  servercert::Material m{std::move(issued->cert), std::move(issued->chain), std::move(issued->key)};
  if (auto st = servercert::check_material(m, clock_.now_seconds(), "the staging certificate"); !st)
    return fail_staging(std::move(st).error());
  CK_ASSIGN(const auto sha256, fingerprint(*m.cert, DigestKind::Sha256, FingerprintFormat::Hex));
  out.checked.push_back("staging " + staging.directory + " issued " + join_domains(s.domains) +
                        " (sha256 " + short_fp(sha256) + "; dropped, not stored)");
  return {};
}

Result<std::vector<IssueOutcome>> Service::renew_all(const RenewOptions& opts, int parallel) {
  std::vector<std::string> names;
  {
    std::lock_guard lock(store_mutex_);
    CK_ASSIGN(const auto all, inventory_.list());
    for (const auto& r : all) {
      if (r.source == "acme")
        names.push_back(r.name);
    }
  }
  std::vector<IssueOutcome> results(names.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < names.size(); i = next++) {
      auto r = renew(names[i], opts);
      if (r) {
        results[i] = std::move(*r);
      } else {
        results[i].name = names[i];
        results[i].error = std::move(r).error();
      }
    }
  };
  const int threads = std::clamp(parallel, 1, kMaxParallel);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads && static_cast<std::size_t>(t) < names.size(); ++t)
    pool.emplace_back(worker);
  worker();
  for (auto& th : pool)
    th.join();
  return results;
}

}  // namespace ck::acme
