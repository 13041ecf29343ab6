#include <unistd.h>

#include <iostream>
#include <mutex>

#include "cli/commands.h"
#include "cli/render.h"
#include "core/duration.h"
#include "core/file_io.h"
#include "core/subprocess.h"
#include "core/system_lookup.h"
#include "core/time_format.h"

namespace ck::cli {
namespace {

struct IssueFlags {
  acme::IssueSettings settings;
  std::string challenge = "http-01";
  std::string key_type = "ec-p256";
  std::string name;
  std::string dns_timeout = "120s";
  std::string timeout = "300s";
};

struct RenewFlags {
  std::string name;
  bool all = false;
  std::string before;
  std::string profile;
  int parallel = 4;
  std::string deploy_hook;
  bool dry_run = false;
  std::string staging_directory;
  std::string staging_ca_file;
};

// What became of --deploy-hook for one renewed certificate.
struct HookRun {
  bool ran = false;
  std::string error;   // empty: exited 0
  std::string output;  // its tail
};

/// --deploy-hook must name a program that can run, before anything renews.
Status check_hook(const std::string& hook) {
  if (hook.empty() || program_found(hook))
    return {};
  return fail(
      Code::InvalidArgument,
      "--deploy-hook '" + hook + "': " +
          (hook.find('/') != std::string::npos ? "not an executable file" : "not found in PATH") +
          " (a program, no arguments)");
}

// certbot's habit: the hook learns what was renewed from its environment.
HookRun run_deploy_hook(const std::string& hook, const acme::IssueOutcome& o, const Runtime& rt) {
  HookRun run;
  run.ran = true;
  std::string domains;
  for (const auto& d : o.cert->domains)
    domains += (domains.empty() ? "" : " ") + d;
  CommandOptions opts;
  opts.timeout = std::chrono::hours(1);
  opts.name = "deploy hook '" + hook + "'";
  // A `certkeeper rollout apply` in the hook works on this store, with this
  // configuration: the home, and the store and config when given.
  opts.env = {"CERTKEEPER_NAME=" + o.name, "RENEWED_LINEAGE=" + o.out, "RENEWED_DOMAINS=" + domains,
              "CERTKEEPER_HOME=" + rt.home().string()};
  if (!rt.global.store_url.empty())
    opts.env.push_back("CERTKEEPER_STORE=" + rt.global.store_url);
  if (!rt.global.config.empty())
    opts.env.push_back("CERTKEEPER_CONFIG=" + rt.global.config);
  if (auto st = run_command({hook}, opts, &run.output); !st)
    run.error = st.error().message;
  return run;
}

Result<std::optional<std::chrono::seconds>> optional_duration(const std::string& text,
                                                              const char* flag) {
  if (text.empty())
    return std::optional<std::chrono::seconds>();
  auto d = parse_duration(text);
  if (!d)
    return fail(Code::InvalidArgument, std::string(flag) + ": " + d.error().message);
  return std::optional<std::chrono::seconds>(*d);
}

Exit run_issue(Runtime& rt, IssueFlags f) {
  CK_ASSIGN(const auto dns_timeout, optional_duration(f.dns_timeout, "--dns-timeout"));
  CK_ASSIGN(const auto timeout, optional_duration(f.timeout, "--timeout"));
  f.settings.dns_timeout = *dns_timeout;
  f.settings.timeout = *timeout;
  // Relative paths are stored for later renewals: make them absolute now.
  for (std::string* path :
       {&f.settings.out, &f.settings.webroot, &f.settings.account_key, &f.settings.ca_bundle}) {
    if (!path->empty())
      *path = std::filesystem::absolute(*path).string();
  }
  CK_ASSIGN(f.settings.challenge, acme::parse_challenge_type(f.challenge));
  CK_ASSIGN(f.settings.key_type, parse_key_type(f.key_type));
  CK_TRY(acme::validate(f.settings));
  const std::string name =
      f.name.empty() ? servercert::default_name(f.settings.domains.front()) : f.name;
  rt.allow_store_creation();
  CK_ASSIGN(const auto service, rt.acme_service(terminal_progress(rt)));
  CK_ASSIGN(const auto out, service->issue(name, f.settings));
  for (const auto& w : out.warnings)
    rt.warn(w);
  const auto& v = *out.cert;
  if (rt.json()) {
    auto j = to_json(v);
    if (!f.settings.out.empty())
      j["out"] = f.settings.out;
    rt.print_json(j);
  } else if (!rt.quiet()) {
    std::cout << "issued '" << v.name << "' (version " << v.version << ") for ";
    for (std::size_t i = 0; i < v.domains.size(); ++i)
      std::cout << (i ? ", " : "") << v.domains[i];
    std::cout << "\n  sha256 " << v.sha256 << "\n  not after " << iso(v.not_after) << " ("
              << v.days_left << " days)\n";
    if (!f.settings.out.empty())
      std::cout << "  files in " << f.settings.out
                << ": cert.pem chain.pem fullchain.pem key.pem\n";
  }
  return kExitOk;
}

// A dry run's line per certificate, then what was checked on the way.
void print_dry_run(const acme::IssueOutcome& o, const std::string& deploy_hook) {
  std::cout << o.name << ": ";
  if (o.error) {
    std::cout << "FAILED: " << o.error->message << "\n";
    return;
  }
  if (!o.renewed) {
    std::cout << "not due (due " << iso(o.due.at) << ": " << o.due.reason << ")";
    if (o.caught_up)
      std::cout << "; its --out files hold another certificate: they would be written from the "
                   "store";
    std::cout << "\n";
  } else {
    std::cout << "due (" << o.due.reason << "): would renew\n";
  }
  for (const auto& c : o.checked)
    std::cout << "  checked: " << c << "\n";
  if (!deploy_hook.empty() && (o.renewed || o.caught_up))
    std::cout << "  would run the deploy hook " << deploy_hook << "\n";
}

void print_outcome(const acme::IssueOutcome& o) {
  if (o.error) {
    std::cout << o.name << ": FAILED: " << o.error->message << "\n";
  } else if (!o.renewed) {
    std::cout << o.name << ": not due (due " << iso(o.due.at) << ": " << o.due.reason << ")";
    if (o.caught_up)
      std::cout << "; its --out files held another certificate: written from the store";
    std::cout << "\n";
  } else {
    std::cout << o.name << ": renewed (version " << o.cert->version << ", not after "
              << iso(o.cert->not_after) << "; due by " << o.due.reason << ")\n";
  }
}

nlohmann::json outcome_json(const acme::IssueOutcome& o, const HookRun& hook) {
  nlohmann::json j{{"name", o.name}, {"renewed", o.renewed}, {"caught_up", o.caught_up}};
  if (o.dry_run) {
    j["dry_run"] = true;
    j["checked"] = o.checked;
  }
  if (hook.ran) {
    j["deploy_hook"] = {{"ok", hook.error.empty()}, {"output", hook.output}};
    if (!hook.error.empty())
      j["deploy_hook"]["error"] = hook.error;
  }
  if (o.error) {
    j["error"] = o.error->message;
  } else {
    j["due_at"] = iso(o.due.at);
    j["due_reason"] = o.due.reason;
  }
  if (o.cert)
    j["certificate"] = to_json(*o.cert);
  if (!o.warnings.empty())
    j["warnings"] = o.warnings;
  return j;
}

Exit run_renew(Runtime& rt, const RenewFlags& f) {
  CK_ASSIGN(const auto before, optional_duration(f.before, "--before"));
  if (f.all == !f.name.empty())
    return fail(Code::InvalidArgument, "give either --name NAME or --all");
  if (!f.staging_directory.empty() && !f.dry_run)
    return fail(Code::InvalidArgument, "--staging-directory is for --dry-run only");
  if (!f.staging_ca_file.empty() && f.staging_directory.empty())
    return fail(Code::InvalidArgument, "--staging-ca-file is for --staging-directory only");
  if (!f.staging_ca_file.empty()) {
    CK_TRY(read_file(f.staging_ca_file, kPemInput));  // missing: an error before any request
  }
  if (!f.staging_directory.empty() && f.staging_directory.rfind("https://", 0) != 0 &&
      f.staging_directory.rfind("http://", 0) != 0) {
    return fail(Code::InvalidArgument, "invalid --staging-directory '" + f.staging_directory +
                                           "' (an https:// URL of an ACME directory)");
  }
  CK_TRY(check_hook(f.deploy_hook));
  CK_ASSIGN(const auto service, rt.acme_service(terminal_progress(rt)));
  const acme::Service::RenewOptions opts{before, f.profile, f.dry_run, f.staging_directory,
                                         f.staging_ca_file};
  std::vector<acme::IssueOutcome> outcomes;
  if (f.all) {
    CK_ASSIGN(outcomes, service->renew_all(opts, f.parallel));
  } else {
    CK_ASSIGN(auto one, service->renew(f.name, opts));
    outcomes.push_back(std::move(one));
  }
  bool failed = false;
  for (const auto& o : outcomes) {
    failed = failed || o.error.has_value();
    for (const auto& w : o.warnings)
      rt.warn(o.name + ": " + w);
  }
  if (f.dry_run) {
    if (rt.json()) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& o : outcomes)
        arr.push_back(outcome_json(o, HookRun{}));
      rt.print_json(arr);
    } else {
      std::cout << "dry run: nothing stored, no file written, no order at the ACME server"
                << (f.staging_directory.empty() ? "" : " (staging orders dropped)") << "\n";
      for (const auto& o : outcomes)
        print_dry_run(o, f.deploy_hook);
      if (outcomes.empty())
        std::cout << "no ACME certificates in the store\n";
    }
    return failed ? kExitError : kExitOk;
  }
  // The hook runs once per certificate renewed (or whose files caught up
  // with the store), after its files are written, one at a time. A failed
  // hook fails the run; the renewal stands, and the next run, finding it not
  // due with its files in place, does not run the hook again.
  // --quiet: only what failed (a renewal, a hook, with the hook's output).
  const bool text = !rt.json();
  const bool say = text && !rt.quiet();
  std::vector<HookRun> hooks(outcomes.size());
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& o = outcomes[i];
    if (f.deploy_hook.empty() || o.error || !(o.renewed || o.caught_up) || !o.cert)
      continue;
    if (say)
      print_outcome(o);
    hooks[i] = run_deploy_hook(f.deploy_hook, o, rt);
    failed = failed || !hooks[i].error.empty();
    if (say || (text && !hooks[i].error.empty())) {
      std::cout << hooks[i].output;
      if (!hooks[i].output.empty() && hooks[i].output.back() != '\n')
        std::cout << "\n";
      std::cout << "  deploy hook: "
                << (hooks[i].error.empty() ? "ok" : "FAILED: " + hooks[i].error) << "\n";
    }
  }
  if (rt.json()) {
    nlohmann::json arr = nlohmann::json::array();
    for (std::size_t i = 0; i < outcomes.size(); ++i)
      arr.push_back(outcome_json(outcomes[i], hooks[i]));
    rt.print_json(arr);
  } else {
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (!hooks[i].ran && (say || outcomes[i].error))
        print_outcome(outcomes[i]);
    }
    if (outcomes.empty() && say)
      std::cout << "no ACME certificates in the store\n";
  }
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (!hooks[i].error.empty())
      rt.report_error(
          Error{Code::Unavailable, outcomes[i].name + ": renewed, but " + hooks[i].error, ""});
  }
  return failed ? kExitError : kExitOk;
}

}  // namespace

void add_acme_commands(CLI::App& app, Runtime& rt) {
  auto* acme = app.add_subcommand("acme", "Server certificates from an ACME CA (RFC 8555)");
  acme->require_subcommand(1);

  auto f = std::make_shared<IssueFlags>();
  auto* issue = acme->add_subcommand(
      "issue",
      "Order a certificate and store it under --name (a wildcard needs --challenge dns-01)");
  auto& s = f->settings;
  issue
      ->add_option("--domain", s.domains,
                   "A name to certify (repeat; *.example.org for a wildcard)")
      ->required();
  issue->add_option("--directory", s.directory, "The ACME directory URL")->required();
  issue->add_option("--challenge", f->challenge, "http-01 or dns-01")
      ->check(CLI::IsMember({"http-01", "dns-01"}))
      ->capture_default_str();
  auto* port = issue
                   ->add_option("--http-port", s.http_port,
                                "http-01: answer on this port with a built-in responder")
                   ->capture_default_str();
  issue->add_option("--http-address", s.http_address, "http-01: address the responder binds")
      ->capture_default_str();
  issue
      ->add_option("--webroot", s.webroot,
                   "http-01: write answers under DIR/.well-known/acme-challenge/ instead")
      ->excludes(port);
  issue->add_option("--dns-hook", s.dns_hook,
                    "dns-01: program run as HOOK add|remove NAME VALUE (no shell)");
  issue->add_option(
      "--dns-resolver", s.dns_resolver,
      "dns-01: IP:PORT of the DNS server to check the TXT record against (default: the "
      "system's resolvers)");
  issue
      ->add_option("--dns-timeout", f->dns_timeout,
                   "dns-01: how long to wait for the TXT record to be visible")
      ->capture_default_str();
  issue->add_option("--account-key", s.account_key,
                    "ACME account key (PEM, EC P-256 or RSA); default: one certkeeper keeps per "
                    "directory in its store");
  issue->add_option("--email", s.email, "Contact address for the ACME account");
  issue->add_flag("--agree-tos", s.agree_tos, "Agree to the ACME server's terms of service");
  issue->add_option("--key-type", f->key_type, "Certificate key: ec-p256, ec-p384, rsa-2048, ...")
      ->capture_default_str();
  issue->add_option("--name", f->name,
                    "Name in the store (default: the first domain; wildcard.DOMAIN for *.DOMAIN)");
  issue->add_option("--out", s.out,
                    "Also write cert.pem, chain.pem, fullchain.pem, key.pem (0600) here; "
                    "renewals rewrite them");
  issue->add_option(
      "--ca-file,--ca-bundle", s.ca_bundle,
      "Trust anchors (PEM) for the ACME server's HTTPS (--ca-bundle: its former name)");
  issue->add_option("--profile", s.profile,
                    "ACME profile to ask for, if the server lists profiles");
  issue->add_option("--timeout", f->timeout, "Give up on the order after this long")
      ->capture_default_str();
  on_run(issue, rt, [f](Runtime& r) { return run_issue(r, *f); });

  auto rf = std::make_shared<RenewFlags>();
  auto* renew = acme->add_subcommand(
      "renew",
      "Renew stored ACME certificates that are due: the server's renewal window (RFC 9773) if "
      "it has one, else --before, else when a third of the lifetime is left (not due: the --out "
      "files are written from the store if they lag it)");
  auto* name = renew->add_option("--name", rf->name, "The certificate to renew");
  renew->add_flag("--all", rf->all, "Every ACME certificate in the store")->excludes(name);
  renew->add_option("--before", rf->before,
                    "Due this long before expiry (when the server gives no renewal window)");
  renew->add_option("--profile", rf->profile,
                    "ACME profile for the new order (e.g. shortlived), if the server lists it");
  renew->add_option("--deploy-hook", rf->deploy_hook,
                    "A program run once per certificate renewed, after its --out files are "
                    "written, with CERTKEEPER_NAME, RENEWED_LINEAGE (the --out folder), "
                    "RENEWED_DOMAINS, CERTKEEPER_HOME (and CERTKEEPER_STORE, CERTKEEPER_CONFIG "
                    "when given) in its environment (e.g. one that runs `certkeeper rollout apply "
                    "PLAN`); its failure fails the run, the renewal stands");
  renew->add_flag("--dry-run", rf->dry_run,
                  "Decide what is due as a real run does and check everything up to the order "
                  "(the directory, the account, renewal info, the profile); store nothing, write "
                  "no file, order nothing, run no hook");
  renew
      ->add_option("--staging-directory", rf->staging_directory,
                   "With --dry-run: order each due certificate from this ACME directory instead "
                   "(a staging server), with a throwaway account; the certificate is checked "
                   "and dropped")
      ->type_name("URL");
  renew
      ->add_option("--staging-ca-file", rf->staging_ca_file,
                   "Trust anchors (PEM) for the staging server's HTTPS (default: the system's)")
      ->type_name("FILE");
  renew->add_option("--parallel", rf->parallel, "Orders at once with --all")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  on_run(renew, rt, [rf](Runtime& r) { return run_renew(r, *rf); });
}

}  // namespace ck::cli
