// `crl check`: which CRL each mTLS server enforces (enforce/crl_check.h).

#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/crl_enforcement.h"
#include "enforce/crl_check.h"
#include "probe/target.h"

namespace ck::cli {
namespace {

struct CheckFlags {
  std::vector<std::string> targets;
  std::string targets_file;
  std::string timeout = "5s";
  std::size_t concurrency = 256;
  std::size_t threads = available_cores();
  std::string ca_file;
  std::size_t canaries = 4;
  bool tls_only = false;
};

Exit run_check(Runtime& rt, const CheckFlags& f) {
  CK_ASSIGN(const auto targets, probe::collect_targets(f.targets, f.targets_file, 443));
  if (targets.empty())
    return fail(Code::InvalidArgument, "no endpoint given (ENDPOINT... or --targets-file)");
  CK_ASSIGN(const auto options, scan_options(f.timeout, f.concurrency, f.threads, f.ca_file));

  CK_ASSIGN(const auto run, observe_enforcement(rt, targets, options, f.canaries, f.tls_only));
  if (rt.json()) {
    std::cout << enforcement_json(run).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::size_t width = 8;
    for (const auto& r : run.reports)
      width = std::max(width, r.target.text.size());
    for (const auto& r : run.reports) {
      std::cout << r.target.text << std::string(width - r.target.text.size() + 2, ' ')
                << enforcement_text(r.crl) << ": " << r.crl.detail << "\n";
    }
    std::cout << run.on_newest << "/" << run.reports.size()
              << " endpoint(s) enforce the newest CRL";
    if (run.last_crl > 0)
      std::cout << " (#" << run.last_crl << ")";
    std::cout << "\n";
  }
  return run.all_newest() ? kExitOk : kExitProblems;
}

}  // namespace

Result<EnforcementRun> observe_enforcement(Runtime& rt, const std::vector<probe::Target>& targets,
                                           const probe::ProbeOptions& options, std::size_t canaries,
                                           bool tls_only) {
  CK_ASSIGN(auto* auth, rt.authority());
  // The valid canary outlives every round: itself, each revoked canary, one spare.
  const auto valid_for =
      scan_credential_lifetime(targets.size(), options, static_cast<long>(canaries) + 2);
  CK_ASSIGN(const auto issued, auth->canaries_for_check(canaries, valid_for));
  EnforcementRun run;
  run.last_crl = issued.last_crl;
  for (const auto& c : issued.revoked)
    run.tried.push_back(c.record.crl_number.value_or(0));
  CK_ASSIGN(run.reports,
            enforce::check_crl_enforcement(
                targets, issued, options, tls_only, rt.clock(),
                rt.json() ? std::function<void(const std::string&)>() : terminal_progress(rt)));
  std::vector<store::CrlEnforcementRecord> seen;
  const Seconds now = rt.clock().now_seconds();
  for (const auto& r : run.reports) {
    run.on_newest += r.crl.state == enforce::Enforcement::Newest ? 1 : 0;
    seen.push_back({r.target.text, std::string(enforce::enforcement_name(r.crl.state)),
                    r.crl.crl_number, run.last_crl, now, r.crl.detail});
  }
  CK_TRY(auth->record_crl_enforcement(seen, run.on_newest, run.last_crl));
  return run;
}

std::string enforcement_text(const enforce::EndpointCrl& c) {
  switch (c.state) {
    case enforce::Enforcement::Newest:
      return "newest (#" + std::to_string(*c.crl_number) + ")";
    case enforce::Enforcement::Stale:
      return "stale by " + std::to_string(c.stale_by) + " (#" + std::to_string(*c.crl_number) + ")";
    case enforce::Enforcement::AcceptsRevoked:
      return "accepts revoked certificates";
    case enforce::Enforcement::NoClientCheck:
      return "does not check client certificates";
    case enforce::Enforcement::RefusesValid:
      return "refuses a valid certificate";
    case enforce::Enforcement::Unreachable:
      return "unreachable";
    case enforce::Enforcement::Unknown:
      break;
  }
  return "not known";
}

nlohmann::json enforcement_json(const EnforcementRun& run) {
  nlohmann::json j;
  j["last_crl"] = run.last_crl;
  j["canaries_tried"] = run.tried;
  j["endpoints"] = nlohmann::json::array();
  for (const auto& r : run.reports) {
    nlohmann::json e;
    e["target"] = r.target.text;
    e["state"] = enforcement_name(r.crl.state);
    e["crl_number"] =
        r.crl.crl_number ? nlohmann::json(*r.crl.crl_number) : nlohmann::json(nullptr);
    e["stale_by"] = r.crl.stale_by;
    e["detail"] = r.crl.detail;
    j["endpoints"].push_back(std::move(e));
  }
  j["on_newest"] = run.on_newest;
  j["total"] = run.reports.size();
  return j;
}

void add_crl_check_command(CLI::App* crl, Runtime& rt) {
  auto flags = std::make_shared<CheckFlags>();
  auto* cmd = crl->add_subcommand(
      "check",
      "Which CRL each mTLS server enforces, observed: every CRL revokes a canary certificate of "
      "its own; a server that refuses CRL #N's canary has CRL #N or newer. Exit 3 unless every "
      "endpoint enforces the newest CRL.");
  cmd->add_option("ENDPOINT", flags->targets,
                  "host:port, host:port@sni or https://host:port/path (default port 443)");
  cmd->add_option("--targets-file", flags->targets_file,
                  "More endpoints, one per line (# comments and blank lines skipped)");
  cmd->add_option("--timeout", flags->timeout, "Per handshake and answer (5s, 500ms)")
      ->capture_default_str();
  cmd->add_option("--concurrency", flags->concurrency, "Handshakes in flight at once")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  add_threads_option(cmd, flags->threads);
  cmd->add_option("--ca-file", flags->ca_file,
                  "Verify the servers' chains against these CA certificates instead of the system "
                  "store (reported, not required)");
  cmd->add_option("--canaries", flags->canaries,
                  "How many of the newest CRLs' canaries to try before saying a server accepts "
                  "revoked certificates")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_flag("--tls-only", flags->tls_only,
                "Judge by the TLS handshake only, for servers that are not HTTPS (by default each "
                "handshake is followed by one GET: nginx refuses a revoked certificate with HTTP "
                "400, not in the handshake)");
  cmd->footer(
      "Each run first presents a fresh canary, valid for minutes and recorded as revoked before\n"
      "it is used (the next CRL lists it): every endpoint must accept it, or nothing can be\n"
      "concluded (\"refuses a valid certificate\"). Then the revoked canaries of the newest\n"
      "CRLs, newest first, on the endpoints not yet decided. States: newest, stale by N,\n"
      "accepts revoked certificates, does not check client certificates, refuses a valid\n"
      "certificate, unreachable, not known. Needs the CA key (it issues the valid canary).");
  on_run(cmd, rt, [flags](Runtime& r) { return run_check(r, *flags); });
}

}  // namespace ck::cli
