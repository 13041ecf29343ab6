#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/commands.h"
#include "core/duration.h"
#include "core/time_format.h"
#include "probe/report.h"
#include "probe/scanner.h"

namespace ck::cli {
namespace {

struct ProbeFlags {
  std::vector<std::string> targets;
  std::string targets_file;
  std::size_t concurrency = 256;
  std::size_t threads = available_cores();
  std::string timeout = "5s";
  std::string ca_file;
  std::string starttls;
  std::string fail_within;
  std::string expect_fingerprint;
  std::string format = "table";
  std::string dns_server;
  std::string client_cert;
  std::string client_key;
  std::string client_user;
};

/// "AB:CD:…", "abcd…" or "ABCD…" → "abcd…".
std::string normalize_fingerprint(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c != ':')
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

struct Problems {
  std::size_t failed = 0;
  std::size_t expiring = 0;
  std::size_t mismatched = 0;
  std::size_t client_refused = 0;  // asked for our certificate and did not take it (or not known)
  [[nodiscard]] std::size_t total() const {
    return failed + expiring + mismatched + client_refused;
  }
};

/// The CLIENT CERT column: whether the server asked, and its verdict.
std::string client_cell(const probe::ClientAuth& c) {
  if (!c.requested)
    return "-";
  switch (c.verdict) {
    case probe::ClientVerdict::Accepted:
      return c.sent ? "accepted" : "asked; none sent, went on";
    case probe::ClientVerdict::RefusedAlert:
      return "refused: " + c.alert;
    case probe::ClientVerdict::RefusedHttp:
      return "refused: HTTP " + std::to_string(c.http_status);
    case probe::ClientVerdict::Closed:
      return "closed after it";
    case probe::ClientVerdict::NoAnswer:
      return "no answer after it";
    case probe::ClientVerdict::NotChecked:
      break;
  }
  return c.sent ? "sent" : "asked; none sent";
}

class Progress {
 public:
  Progress(std::size_t total, bool enabled) : total_(total), enabled_(enabled) {}
  void update(std::size_t done, std::size_t failed) {
    if (!enabled_)
      return;
    const auto now = std::chrono::steady_clock::now();
    if (done != total_ && now - last_ < std::chrono::milliseconds(100))
      return;
    last_ = now;
    std::fprintf(stderr, "\rprobing: %zu/%zu done, %zu failed", done, total_, failed);
    std::fflush(stderr);
  }
  void clear() const {
    if (enabled_)
      std::fprintf(stderr, "\r\033[K");
  }

 private:
  std::size_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point last_{};
};

/// With --client-cert: a server asked for it and did not take it, or did not
/// say (no false green: "not known" is not "accepted").
bool client_refused(const probe::ProbeResult& r, bool client_given) {
  return client_given && r.client.requested && r.client.verdict != probe::ClientVerdict::Accepted &&
         r.client.verdict != probe::ClientVerdict::NotChecked;
}

std::string table(const std::vector<probe::ProbeResult>& results, bool colour,
                  const std::optional<std::chrono::seconds>& within, Seconds now,
                  bool client_given) {
  const char* red = colour ? "\033[31m" : "";
  const char* yellow = colour ? "\033[33m" : "";
  const char* reset = colour ? "\033[0m" : "";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"TARGET", "ADDRESS", "TLS", "DAYS", "NOT AFTER", "VERIFY", "CLIENT CERT",
                  "SUBJECT / ERROR"});
  bool asked = false;  // the CLIENT CERT column shows only when a server asked
  for (const auto& r : results) {
    asked = asked || r.client.requested;
    if (!r.ok) {
      rows.push_back({r.target.text, r.address.empty() ? "-" : r.address, "-", "-", "-", "-",
                      client_cell(r.client),
                      "FAILED (" + std::string(probe::phase_name(r.phase)) + "): " + r.error});
      continue;
    }
    std::string verify = r.verified ? "ok" : r.verify_error;
    if (!r.hostname_match)
      verify = verify == "ok" ? "name mismatch" : verify + "; name mismatch";
    rows.push_back({r.target.text, r.address, r.tls_version, std::to_string(r.days_left),
                    format_iso8601(r.not_after), verify, client_cell(r.client), r.subject});
  }
  if (!asked) {
    for (auto& row : rows)
      row.erase(row.begin() + 6);
  }
  std::vector<std::size_t> width(rows.front().size());
  for (const auto& row : rows)
    for (std::size_t i = 0; i + 1 < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (std::size_t n = 0; n < rows.size(); ++n) {
    const auto& row = rows[n];
    const char* paint = "";
    if (n > 0) {
      const auto& r = results[n - 1];
      if (!r.ok || client_refused(r, client_given))
        paint = red;
      else if (!r.verified || !r.hostname_match || (within && r.not_after - now < *within))
        paint = yellow;
    }
    out += paint;
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size())
        out += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += *paint ? reset : "";
    out += '\n';
  }
  return out;
}

Exit run_probe(Runtime& rt, const ProbeFlags& f) {
  probe::ProbeOptions options;
  if (!f.starttls.empty()) {
    CK_ASSIGN(options.starttls, probe::parse_starttls(f.starttls));
  }
  const auto port = probe::default_port(options.starttls);
  CK_ASSIGN(const auto targets, probe::collect_targets(f.targets, f.targets_file, port));
  if (targets.empty()) {
    std::cerr << "certkeeper: error: no target given (TARGET... or --targets-file)\n";
    return kExitUsage;
  }
  {
    const auto starttls = options.starttls;
    CK_ASSIGN(options, scan_options(f.timeout, f.concurrency, f.threads, f.ca_file));
    options.starttls = starttls;
  }
  if (!f.dns_server.empty())
    options.dns_server = f.dns_server;
  if (f.client_cert.empty() != f.client_key.empty())
    return fail(Code::InvalidArgument, "--client-cert and --client-key go together");
  if (!f.client_cert.empty() && !f.client_user.empty())
    return fail(Code::InvalidArgument, "--client-user or --client-cert, not both");
  if (!f.client_cert.empty()) {
    CK_ASSIGN(options.client, probe::load_client_credential(f.client_cert, f.client_key));
  }
  if (!f.client_user.empty()) {
    CK_ASSIGN(auto* auth, rt.authority());
    const auto valid_for = scan_credential_lifetime(targets.size(), options, 1);
    CK_ASSIGN(auto issued, auth->probe_credential(f.client_user, valid_for));
    CK_ASSIGN(options.client,
              probe::make_client_credential(std::move(issued.cert), std::move(issued.key), {}));
  }
  const bool client_given = options.client != nullptr;
  std::optional<std::chrono::seconds> within;
  if (!f.fail_within.empty()) {
    CK_ASSIGN(within, parse_duration(f.fail_within));
  }
  const std::string expected = normalize_fingerprint(f.expect_fingerprint);
  if (!f.expect_fingerprint.empty() &&
      (expected.size() != 64 ||
       !std::all_of(expected.begin(), expected.end(), [](char c) { return std::isxdigit(c); })))
    return fail(Code::InvalidArgument,
                "--expect-fingerprint '" + f.expect_fingerprint +
                    "' is not a SHA-256 fingerprint (64 hex digits, colons allowed)");

  CK_ASSIGN(const auto scanner, probe::Scanner::create(options, rt.clock()));

  const bool json_lines = rt.json() || f.format == "json";
  const Seconds now = rt.clock().now_seconds();
  std::vector<probe::ProbeResult> results(targets.size());
  Problems problems;
  std::size_t done = 0;
  std::string lines;
  auto last_flush = std::chrono::steady_clock::now();
  Progress progress(targets.size(),
                    !rt.quiet() && targets.size() >= 20 && ::isatty(STDERR_FILENO) == 1);
  const Status ran = scanner->run(targets, [&](std::size_t index, probe::ProbeResult&& r) {
    ++done;
    bool mismatch = false;
    if (client_refused(r, client_given))
      ++problems.client_refused;
    if (!r.ok) {
      ++problems.failed;
    } else {
      if (within && r.not_after - now < *within)
        ++problems.expiring;
      if (!expected.empty() && r.sha256 != expected) {
        mismatch = true;
        ++problems.mismatched;
      }
    }
    if (json_lines) {
      auto j = probe::to_json(r);
      if (!expected.empty())
        j["fingerprint_match"] = r.ok ? nlohmann::ordered_json(!mismatch) : nullptr;
      lines += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      lines += '\n';
      // Lines reach a pipe within 100 ms, without one write per target.
      const auto now_steady = std::chrono::steady_clock::now();
      if (lines.size() > (1 << 16) || now_steady - last_flush > std::chrono::milliseconds(100)) {
        progress.clear();
        std::cout << lines << std::flush;
        lines.clear();
        last_flush = now_steady;
      }
    }
    results[index] = std::move(r);
    progress.update(done, problems.failed);
  });
  progress.clear();
  std::cout << lines << std::flush;
  CK_TRY(ran);

  if (f.format == "prometheus") {
    std::cout << probe::to_prometheus(results);
  } else if (!json_lines) {
    const bool colour = ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
    std::cout << table(results, colour, within, now, client_given);
    std::cout << targets.size() << " probed: " << (targets.size() - problems.failed) << " ok, "
              << problems.failed << " failed";
    if (within)
      std::cout << ", " << problems.expiring << " expire within " << f.fail_within;
    if (!expected.empty())
      std::cout << ", " << problems.mismatched << " not serving the expected certificate";
    if (client_given)
      std::cout << ", " << problems.client_refused
                << " asked for the client certificate and did not accept it";
    std::cout << "\n";
  }
  return problems.total() > 0 ? kExitProblems : kExitOk;
}

}  // namespace

std::function<void(const std::string&)> terminal_progress(const Runtime& rt) {
  if (rt.quiet() || ::isatty(STDERR_FILENO) == 0)
    return [](const std::string&) {};
  auto mutex = std::make_shared<std::mutex>();
  return [mutex](const std::string& step) {
    std::lock_guard lock(*mutex);
    std::cerr << "certkeeper: " << step << "\n";
  };
}

std::size_t available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return static_cast<std::size_t>(CPU_COUNT(&set));
  return std::max<std::size_t>(std::thread::hardware_concurrency(), 1);
}

void add_threads_option(CLI::App* cmd, std::size_t& threads) {
  cmd->add_option("--threads", threads,
                  "Event loops, one per thread, sharing the targets and the --concurrency "
                  "(default: the cores this process may use)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
}

Result<probe::ProbeOptions> scan_options(const std::string& timeout, std::size_t concurrency,
                                         std::size_t threads, const std::string& ca_file) {
  probe::ProbeOptions options;
  CK_ASSIGN(options.timeout, parse_timeout(timeout));
  if (options.timeout.count() <= 0)
    return fail(Code::InvalidArgument, "--timeout '" + timeout + "' must be longer than 0");
  options.concurrency = std::max<std::size_t>(concurrency, 1);
  options.threads = std::max<std::size_t>(threads, 1);
  if (!ca_file.empty())
    options.ca_file = ca_file;
  return options;
}

std::chrono::seconds scan_credential_lifetime(std::size_t targets,
                                              const probe::ProbeOptions& options, long rounds) {
  const auto waves = static_cast<long>((targets + options.concurrency - 1) / options.concurrency);
  return std::max<std::chrono::seconds>(
      std::chrono::minutes(5),
      std::chrono::duration_cast<std::chrono::seconds>(options.timeout * rounds * waves * 2));
}

Result<std::chrono::milliseconds> parse_timeout(const std::string& text) {
  if (text.size() > 2 && text.ends_with("ms")) {
    const std::string digits = text.substr(0, text.size() - 2);
    if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        digits.size() < 9)
      return std::chrono::milliseconds(std::stoll(digits));
  }
  CK_ASSIGN(const auto seconds, parse_duration(text));
  return std::chrono::duration_cast<std::chrono::milliseconds>(seconds);
}

void add_probe_command(CLI::App& app, Runtime& rt) {
  auto flags = std::make_shared<ProbeFlags>();
  auto* cmd = app.add_subcommand(
      "probe",
      "TLS handshake with many endpoints at once: the certificate each one serves, and whether "
      "it verifies, and whether it asks for a client certificate. Exit 3 when a target failed, "
      "expires within --fail-within, does not serve --expect-fingerprint, or asked for "
      "--client-cert and did not accept it.");
  cmd->add_option("TARGET", flags->targets,
                  "host, host:port, host:port@sni, [v6addr]:port or https://host:port/ "
                  "(default port 443; SNI is the host unless given after @)");
  cmd->add_option("--targets-file", flags->targets_file,
                  "More targets, one per line (# comments and blank lines skipped)");
  cmd->add_option("--concurrency", flags->concurrency, "Handshakes in flight at once")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  add_threads_option(cmd, flags->threads);
  cmd->add_option("--timeout", flags->timeout,
                  "Per target, covering name lookup, connect, STARTTLS and handshake, "
                  "whatever the server sends (5s, 500ms)")
      ->capture_default_str();
  cmd->add_option("--ca-file", flags->ca_file,
                  "Verify chains against these CA certificates (PEM) instead of the system store");
  cmd->add_option("--starttls", flags->starttls,
                  "Speak this protocol before the handshake (default ports 25, 143, 110)")
      ->check(CLI::IsMember({"smtp", "imap", "pop3"}));
  cmd->add_option("--fail-within", flags->fail_within,
                  "Exit 3 when a served certificate expires within this window (14d)")
      ->check(duration_validator());
  cmd->add_option("--expect-fingerprint", flags->expect_fingerprint,
                  "SHA-256 fingerprint every target must serve; exit 3 for any that does not");
  cmd->add_option("--format", flags->format,
                  "table, json (one object per line, as they finish; same as --json) or "
                  "prometheus (textfile collector)")
      ->check(CLI::IsMember({"table", "json", "prometheus"}))
      ->capture_default_str();
  cmd->add_option("--dns-server", flags->dns_server,
                  "Resolve names with this DNS server (HOST:PORT) instead of /etc/resolv.conf");
  cmd->add_option("--client-cert", flags->client_cert,
                  "Offer this client certificate (PEM, intermediates after it) to servers that "
                  "ask for one, and report what each made of it: accepted, refused by a TLS "
                  "alert, or (https:// targets, one GET) refused by an HTTP certificate error")
      ->check(CLI::ExistingFile);
  cmd->add_option("--client-key", flags->client_key,
                  "The client certificate's key (unencrypted PEM or DER)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--client-user", flags->client_user,
                  "Probe as this user of the CA: a certificate with the user's current subject, "
                  "valid for minutes, its key only in memory, recorded and revoked in the store "
                  "before use (the next CRL lists it) and audited. Needs the CA key")
      ->type_name("USER");
  on_run(cmd, rt, [flags](Runtime& r) { return run_probe(r, *flags); });
}

}  // namespace ck::cli
