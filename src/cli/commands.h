#pragma once
// Each cmd_*.cpp adds its subcommands. A command parses into a plain options
// struct, calls its module's service (ca::Authority, servercert::Inventory,
// acme::Service, rollout::Runner, notify::Notifier, the probe scanner), prints
// text or --json, and returns an Exit: its errors are printed by run().

#include <CLI/CLI.hpp>

#include "cli/runtime.h"
#include "probe/scanner.h"

namespace ck::cli {

void add_ca_commands(CLI::App& app, Runtime& rt);
void add_user_commands(CLI::App& app, Runtime& rt);
void add_cert_commands(CLI::App& app, Runtime& rt);
void add_crl_commands(CLI::App& app, Runtime& rt);
void add_crl_check_command(CLI::App* crl, Runtime& rt);
void add_expiring_command(CLI::App& app, Runtime& rt);
void add_fingerprint_command(CLI::App& app, Runtime& rt);
void add_observe_command(CLI::App& app, Runtime& rt);
void add_notify_command(CLI::App& app, Runtime& rt);
void add_probe_command(CLI::App& app, Runtime& rt);
void add_acme_commands(CLI::App& app, Runtime& rt);
void add_rollout_commands(CLI::App& app, Runtime& rt);
void add_serve_command(CLI::App& app, Runtime& rt);
void add_store_commands(CLI::App& app, Runtime& rt);
void add_meta_commands(CLI::App& app, Runtime& rt);

/// Registers `fn` (Runtime& → Exit) to run when `sub` is the chosen command.
template <class Fn>
void on_run(CLI::App* sub, Runtime& rt, Fn fn) {
  sub->callback([&rt, fn] { rt.action = [&rt, fn]() -> Exit { return fn(rt); }; });
}

/// A deadline as operators write it: "500ms", "5s", "2m".
[[nodiscard]] Result<std::chrono::milliseconds> parse_timeout(const std::string& text);

/// The scanner options every probing command takes: --timeout (longer than
/// 0), --concurrency (at least 1), --threads, --ca-file (empty: the system
/// store).
[[nodiscard]] Result<probe::ProbeOptions> scan_options(const std::string& timeout,
                                                       std::size_t concurrency, std::size_t threads,
                                                       const std::string& ca_file);

/// The cores this process may run on (its CPU affinity, so `taskset` and
/// cgroup cpusets count): the default number of probe loops.
[[nodiscard]] std::size_t available_cores();

/// `--threads N` for a probing command, defaulting to available_cores().
void add_threads_option(CLI::App* cmd, std::size_t& threads);

/// How long a certificate a scan presents must stay valid: two timeouts per
/// wave of `concurrency` probes, for each of `rounds` scans of `targets`;
/// five minutes at least.
[[nodiscard]] std::chrono::seconds scan_credential_lifetime(std::size_t targets,
                                                            const probe::ProbeOptions& options,
                                                            long rounds);

/// Steps to stderr as they happen when a person watches (an ACME order takes
/// seconds, a rollout minutes) and did not ask for --quiet; a script's stderr
/// keeps only the error line. Safe to call from several threads.
[[nodiscard]] std::function<void(const std::string&)> terminal_progress(const Runtime& rt);

/// Validates a duration option while parsing ("90d", "36h").
CLI::Validator duration_validator();

/// A duration option's value; an error names the flag ("--validity: ...").
[[nodiscard]] Result<std::chrono::seconds> flag_duration(const std::string& text,
                                                         std::string_view flag);

}  // namespace ck::cli
