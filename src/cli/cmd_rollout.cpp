#include <unistd.h>

#include <glob.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "core/fingerprint.h"
#include "core/join.h"
#include "core/time_format.h"
#include "rollout/alignment.h"
#include "rollout/plan.h"
#include "rollout/runner.h"

namespace ck::cli {
namespace {

struct VerifyFlags {
  std::string plan;
  std::string stage;
  std::string timeout = "5s";
  std::size_t concurrency = 256;
  std::size_t threads = available_cores();
  std::string ca_file;
};

struct Loaded {
  rollout::Plan plan;
  rollout::PlanCertificate cert;
};

Result<Loaded> load(Runtime& rt, const std::string& file) {
  CK_ASSIGN(auto plan, rollout::load_plan(file));
  // A plan that names certificate files needs no store (verify, rollout plan).
  servercert::Inventory* inventory = nullptr;
  if (!plan.certificate.name.empty()) {
    CK_ASSIGN(inventory, rt.inventory());
  }
  CK_ASSIGN(auto cert, rollout::resolve_certificate(plan, inventory));
  return Loaded{std::move(plan), std::move(cert)};
}

Result<rollout::Alignment> align(Runtime& rt, const Loaded& l, const VerifyFlags& f) {
  probe::ProbeOptions opts;
  CK_ASSIGN(opts.timeout, parse_timeout(f.timeout));
  opts.concurrency = f.concurrency;
  opts.threads = f.threads;
  if (!f.ca_file.empty())
    opts.ca_file = f.ca_file;
  return rollout::check_alignment(l.plan, l.cert, opts, rt.clock(), f.stage);
}

nlohmann::json cert_json(const rollout::PlanCertificate& c) {
  return {{"source", c.describe},
          {"sha256", c.sha256},
          {"previous_sha256", c.previous_sha256},
          {"not_after", iso(c.not_after)}};
}

nlohmann::json endpoint_json(const rollout::EndpointState& e) {
  nlohmann::json j{{"stage", e.stage},
                   {"target", e.target},
                   {"endpoint", e.probe.target.text},
                   {"serves", rollout::serving_name(e.serving)},
                   {"aligned", e.aligned()}};
  if (e.probe.ok) {
    j["sha256"] = e.probe.sha256;
    j["not_after"] = iso(e.probe.not_after);
    j["days_left"] = e.probe.days_left;
    j["chain"] = e.chain();
    j["name"] = e.name();
  } else {
    j["error"] = e.probe.error;
  }
  return j;
}

std::string serving_cell(const rollout::EndpointState& e, bool colour) {
  const char* red = colour ? "\033[31m" : "";
  const char* green = colour ? "\033[32m" : "";
  const char* reset = colour ? "\033[0m" : "";
  const std::string name(rollout::serving_name(e.serving));
  return (e.aligned() ? green : red) + name + reset;
}

// "N of M endpoints aligned", and how many a client refuses although they
// serve the plan's certificate (a missing intermediate, another name).
std::string aligned_summary(const rollout::Alignment& al, const char* aligned_words) {
  std::string out = std::to_string(al.aligned()) + " of " + std::to_string(al.endpoints.size()) +
                    " endpoints " + aligned_words;
  if (const auto refused = al.refused(); refused > 0) {
    out += "; " + std::to_string(refused) + (refused == 1 ? " serves" : " serve") +
           " the plan's certificate, but a client refuses it (chain or name)";
  }
  return out;
}

Exit run_verify(Runtime& rt, const VerifyFlags& f) {
  CK_ASSIGN(const auto loaded, load(rt, f.plan));
  CK_ASSIGN(const auto al, align(rt, loaded, f));
  const std::size_t total = al.endpoints.size();
  const std::size_t aligned = al.aligned();
  if (rt.json()) {
    nlohmann::json eps = nlohmann::json::array();
    for (const auto& e : al.endpoints)
      eps.push_back(endpoint_json(e));
    rt.print_json({{"plan", f.plan},
                   {"certificate", cert_json(al.certificate)},
                   {"endpoints", eps},
                   {"aligned", aligned},
                   {"total", total}});
  } else {
    const bool colour = ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
    std::cout << "certificate: " << al.certificate.describe << ", sha256 " << al.certificate.sha256
              << "\n";
    std::printf("%-12s %-16s %-36s %-6s %-12s %-5s %-9s %s\n", "STAGE", "TARGET", "ENDPOINT",
                "SERVES", "SHA256", "DAYS", "NAME", "CHAIN / ERROR");
    for (const auto& e : al.endpoints) {
      const std::string cell = serving_cell(e, colour);
      const int pad = 6 + static_cast<int>(cell.size() - rollout::serving_name(e.serving).size());
      const bool ok = e.probe.ok;
      std::printf("%-12s %-16s %-36s %-*s %-12s %-5s %-9s %s\n", e.stage.c_str(), e.target.c_str(),
                  e.probe.target.text.c_str(), pad, cell.c_str(),
                  ok ? short_fp(e.probe.sha256).c_str() : "-",
                  ok ? std::to_string(e.probe.days_left).c_str() : "-", ok ? e.name().c_str() : "-",
                  ok ? e.chain().c_str() : e.probe.error.c_str());
    }
    std::cout << aligned_summary(al, "aligned") << "\n";
  }
  std::fflush(stdout);
  return aligned == total ? kExitOk : kExitProblems;
}

std::string deploy_line(const rollout::Deploy& d) {
  if (d.kind == rollout::DeployKind::Command) {
    std::string out = "command: " + join(d.command);
    if (!d.check_command.empty())
      out += "; check: " + join(d.check_command);
    if (!d.rollback_command.empty())
      out += "; rollback: " + join(d.rollback_command);
    return out;
  }
  std::string out = "files:";
  const auto add = [&](const char* what, const std::optional<std::filesystem::path>& p) {
    if (p)
      out += std::string(" ") + what + " " + p->string();
  };
  add("cert", d.cert);
  add("key", d.key);
  add("chain", d.chain);
  add("fullchain", d.fullchain);
  char mode[8];
  char key_mode[8];
  std::snprintf(mode, sizeof mode, "%04o", d.mode);
  std::snprintf(key_mode, sizeof key_mode, "%04o", d.key_mode);
  out += std::string(" (mode ") + mode + (d.key ? std::string(", key ") + key_mode : "") +
         (d.owner.empty() ? "" : ", owner " + d.owner) +
         (d.group.empty() ? "" : ", group " + d.group) + ")";
  if (!d.reload.empty())
    out += "; reload: " + join(d.reload);
  return out;
}

std::size_t glob_count(const std::filesystem::path& base, const std::string& pattern) {
  const std::string full =
      std::filesystem::path(pattern).is_relative() ? (base / pattern).string() : pattern;
  glob_t g{};
  std::size_t n = 0;
  if (::glob(full.c_str(), 0, nullptr, &g) == 0)
    n = g.gl_pathc;
  ::globfree(&g);
  return n;
}

Exit run_plan(Runtime& rt, const VerifyFlags& f) {
  CK_ASSIGN(const auto loaded, load(rt, f.plan));
  CK_ASSIGN(const auto al, align(rt, loaded, f));
  const auto& plan = loaded.plan;
  if (rt.json()) {
    nlohmann::json stages = nlohmann::json::array();
    std::size_t i = 0;
    for (const auto& s : plan.stages) {
      nlohmann::json targets = nlohmann::json::array();
      for (const auto& t : s.targets) {
        nlohmann::json eps = nlohmann::json::array();
        for (std::size_t k = 0; k < t.endpoints.size(); ++k)
          eps.push_back(endpoint_json(al.endpoints[i++]));
        targets.push_back(
            {{"name", t.name}, {"deploy", deploy_line(t.deploy)}, {"endpoints", eps}});
      }
      stages.push_back({{"name", s.name}, {"parallel", s.parallel}, {"targets", targets}});
    }
    nlohmann::json hooks = nlohmann::json::array();
    for (const auto& h : plan.hooks)
      hooks.push_back({{"when", rollout::to_string(h.when)}, {"command", h.command}});
    rt.print_json({{"plan", f.plan},
                   {"certificate", cert_json(loaded.cert)},
                   {"hooks", hooks},
                   {"stages", stages}});
    return kExitOk;
  }
  std::cout << "plan " << plan.file.string() << "\ncertificate: " << loaded.cert.describe
            << ", sha256 " << loaded.cert.sha256 << "\n";
  if (!loaded.cert.previous_sha256.empty())
    std::cout << "replaces: sha256 " << loaded.cert.previous_sha256 << "\n";
  int step = 0;
  for (const auto& h : plan.hooks) {
    if (h.when == rollout::HookWhen::Before)
      std::cout << ++step << ". hook before: " << join(h.command) << "\n";
  }
  std::size_t i = 0;
  for (const auto& s : plan.stages) {
    std::cout << ++step << ". stage " << s.name << " (" << s.targets.size() << " target"
              << (s.targets.size() == 1 ? "" : "s") << ", " << s.parallel << " at a time)\n";
    int sub = 0;
    for (const auto& t : s.targets) {
      std::cout << "   " << step << "." << ++sub << " " << t.name << ": " << deploy_line(t.deploy)
                << "\n";
      for (std::size_t k = 0; k < t.endpoints.size(); ++k) {
        const auto& e = al.endpoints[i++];
        const auto refusal = rollout::client_refusal(e.probe, e.verify_chain);
        std::cout << "        verify " << e.probe.target.text << " (now serves "
                  << rollout::serving_name(e.serving)
                  << (e.probe.ok ? " " + short_fp(e.probe.sha256) : ": " + e.probe.error)
                  << (e.serving == rollout::Serving::New && !refusal.empty()
                          ? ", not aligned: " + refusal
                          : "")
                  << ")\n";
      }
    }
  }
  for (const auto& p : plan.pins) {
    std::cout << ++step << ". pins (" << digest_name(p.algorithm) << "): ";
    for (std::size_t k = 0; k < p.paths.size(); ++k) {
      std::cout << (k ? ", " : "") << p.paths[k] << " ("
                << glob_count(plan.file.parent_path(), p.paths[k]) << " files)";
    }
    std::cout << "\n";
  }
  for (const auto& h : plan.hooks) {
    if (h.when == rollout::HookWhen::After)
      std::cout << ++step << ". hook after: " << join(h.command) << "\n";
  }
  if (!plan.cleanup.empty()) {
    std::cout << ++step << ". cleanup (after a complete, verified rollout):";
    for (const auto& c : plan.cleanup)
      std::cout << " " << c.string();
    std::cout << "\n";
  }
  std::cout << aligned_summary(al, "already aligned") << "\n";
  return kExitOk;
}

nlohmann::json report_json(const rollout::Report& rep) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : rep.steps) {
    nlohmann::json j{{"stage", s.stage},
                     {"target", s.target},
                     {"state", rollout::to_string(s.state)},
                     {"detail", s.detail}};
    if (!s.output.empty())
      j["output"] = s.output;
    if (s.at)
      j["at"] = iso(*s.at);
    steps.push_back(std::move(j));
  }
  nlohmann::json j{{"plan", rep.plan},
                   {"rollout", rep.rollout_id},
                   {"state", rollout::to_string(rep.state)},
                   {"certificate",
                    {{"source", rep.certificate},
                     {"sha256", rep.sha256},
                     {"previous_sha256", rep.previous_sha256}}},
                   {"steps", steps},
                   {"notes", rep.notes},
                   {"ok", rep.ok()}};
  if (rep.started_at)
    j["started_at"] = iso(*rep.started_at);
  if (rep.finished_at)
    j["finished_at"] = iso(*rep.finished_at);
  if (!rep.failure.empty())
    j["failure"] = rep.failure;
  return j;
}

// A command's output under its step, indented; at most `max_lines` of its
// end (0: all that the journal kept).
void print_output(const std::string& output, std::size_t max_lines) {
  std::vector<std::string_view> lines;
  std::string_view rest = output;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const auto line = rest.substr(0, nl);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos)
      lines.push_back(line);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  const std::size_t from =
      max_lines == 0 || lines.size() <= max_lines ? 0 : lines.size() - max_lines;
  if (from > 0)
    std::cout << "      | (" << from << " line(s) before)\n";
  for (std::size_t i = from; i < lines.size(); ++i)
    std::cout << "      | " << lines[i] << "\n";
}

// Text reports show what the commands printed: all of it for a check (the
// --diff an operator reads before the real run), the last lines of each
// step for `status`, of a failed step otherwise (the tool's own error).
enum class Outputs { All, Tails, Failures };

void print_report(const rollout::Report& rep, Outputs outputs) {
  if (rep.state == rollout::RolloutState::None) {
    std::cout << "no rollout of " << rep.plan << " yet\n";
    return;
  }
  if (rep.rollout_id != 0)
    std::cout << "rollout " << rep.rollout_id << " of " << rep.plan << "\n";
  else
    std::cout << "check of " << rep.plan << " (nothing written, no endpoint changed)\n";
  std::cout << "certificate: " << rep.certificate << ", sha256 " << rep.sha256 << "\n";
  for (const auto& s : rep.steps) {
    std::printf("  %-28s %-15s %s\n", (s.stage + "/" + s.target).c_str(),
                rollout::to_string(s.state), s.detail.c_str());
    if (s.output.empty())
      continue;
    if (outputs == Outputs::All)
      print_output(s.output, 0);
    else if (outputs == Outputs::Tails)
      print_output(s.output, 5);
    else if (s.state == rollout::StepState::Failed || s.state == rollout::StepState::RollbackFailed)
      print_output(s.output, 10);
  }
  for (const auto& n : rep.notes)
    std::cout << "  " << n << "\n";
  std::cout << "state: " << rollout::to_string(rep.state) << "\n";
  std::fflush(stdout);
}

// apply, resume and rollback end alike: the report, then either exit 0 or
// one error line and what to run next.
Exit finish_run(Runtime& rt, const std::string& plan, const Result<rollout::Report>& rep) {
  if (!rep)
    return fail(rep.error());
  // A check's report is what was asked for; a run's is its summary, which
  // --quiet leaves out unless the run failed.
  const bool check = rep->rollout_id == 0;
  if (rt.json()) {
    rt.print_json(report_json(*rep));
  } else if (check || !rt.quiet() || !rep->ok()) {
    print_report(*rep, check ? Outputs::All : Outputs::Failures);
  } else {
    for (const auto& c : rep->concerns)  // what to look at (a pin file left alone, say)
      std::cout << c << "\n";
  }
  if (rep->ok())
    return kExitOk;
  rt.report_error(Error{Code::FailedPrecondition, rep->failure, ""});
  if (rep->state == rollout::RolloutState::Failed) {
    std::cerr << "  resume:    certkeeper rollout resume " << plan << "\n"
              << "  roll back: certkeeper rollout rollback " << plan << "\n";
  } else if (rep->state == rollout::RolloutState::RollbackFailed) {
    std::cerr << "  fix it, then: certkeeper rollout rollback " << plan << "\n";
  }
  return kExitError;
}

struct RunFlags {
  VerifyFlags probe;
  bool check = false;
};

Result<rollout::RunOptions> run_options(const Runtime& rt, const RunFlags& f) {
  rollout::RunOptions o;
  o.check = f.check;
  o.stage = f.probe.stage;
  CK_ASSIGN(o.probe.timeout, parse_timeout(f.probe.timeout));
  o.probe.concurrency = f.probe.concurrency;
  o.probe.threads = f.probe.threads;
  if (!f.probe.ca_file.empty())
    o.probe.ca_file = f.probe.ca_file;
  o.progress = terminal_progress(rt);
  return o;
}

enum class Action { Apply, Resume, Rollback, Status };

Exit run_action(Runtime& rt, const RunFlags& f, Action action) {
  CK_ASSIGN(const auto plan, rollout::load_plan(f.probe.plan));
  CK_ASSIGN(const auto opts, run_options(rt, f));
  CK_ASSIGN(const auto runner, rt.rollout_runner());
  switch (action) {
    case Action::Apply:
      return finish_run(rt, f.probe.plan, runner->apply(plan, opts));
    case Action::Resume:
      return finish_run(rt, f.probe.plan, runner->resume(plan, opts));
    case Action::Rollback:
      return finish_run(rt, f.probe.plan, runner->rollback(plan, opts));
    case Action::Status:
      break;
  }
  CK_ASSIGN(const auto rep, runner->status(plan));
  if (rt.json()) {
    rt.print_json(report_json(rep));
    return kExitOk;
  }
  print_report(rep, Outputs::Tails);
  if (!rep.failure.empty())
    std::cout << "stopped: " << rep.failure << "\n";
  return kExitOk;
}

void add_probe_flags(CLI::App* cmd, VerifyFlags& f) {
  cmd->add_option("PLAN", f.plan, "Rollout plan (TOML; docs/rollout.md)")->required();
  cmd->add_option("--timeout", f.timeout, "Per-endpoint handshake deadline")->capture_default_str();
  cmd->add_option("--concurrency", f.concurrency, "Handshakes at once")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  add_threads_option(cmd, f.threads);
  cmd->add_option("--ca-file", f.ca_file,
                  "Trust anchors (PEM) the served chains must verify against, instead of the "
                  "plan's [certificate] ca_file (else the system store)");
}

}  // namespace

void add_rollout_commands(CLI::App& app, Runtime& rt) {
  auto* rollout = app.add_subcommand(
      "rollout", "Put a server certificate on every endpoint, in stages, verified by handshake");
  rollout->require_subcommand(1);
  auto pf = std::make_shared<VerifyFlags>();
  auto* plan = rollout->add_subcommand(
      "plan",
      "Every step of a plan in order, and what each endpoint serves now (old, new, other) and "
      "whether it is aligned (a client accepts its chain and name)");
  add_probe_flags(plan, *pf);
  on_run(plan, rt, [pf](Runtime& r) { return run_plan(r, *pf); });

  const auto add_run = [&](const char* name, const char* help, Action action) {
    auto flags = std::make_shared<RunFlags>();
    auto* cmd = rollout->add_subcommand(name, help);
    if (action == Action::Status)  // the journal only: no handshake
      cmd->add_option("PLAN", flags->probe.plan, "Rollout plan (TOML; docs/rollout.md)")
          ->required();
    else
      add_probe_flags(cmd, flags->probe);
    if (action == Action::Apply) {
      cmd->add_flag("--check", flags->check,
                    "Run the check commands and probe the endpoints; write nothing, change no "
                    "endpoint, run no hook");
    }
    if (action == Action::Rollback) {
      cmd->add_flag("--check", flags->check,
                    "Decide as a rollback does (the last rollout, its touched targets, each "
                    "files backup opened, each command target's rollback), probe the endpoints, "
                    "and print what would be put back; write nothing, run no command or hook");
    }
    if (action == Action::Apply || action == Action::Resume)
      cmd->add_option("--stage", flags->probe.stage, "Only this stage (look at the canary first)");
    on_run(cmd, rt, [flags, action](Runtime& r) { return run_action(r, *flags, action); });
  };
  add_run("apply",
          "Deploy stage by stage, target by target, each verified by handshake until it serves "
          "the new certificate with a chain and name a client accepts; stop at the first "
          "failure (exit 1, resume or roll back)",
          Action::Apply);
  add_run("status", "The plan's last rollout from the journal: each target's step and detail",
          Action::Status);
  add_run("resume",
          "Continue a stopped rollout: verified targets are probed again, the failed one is "
          "deployed again, then the rest",
          Action::Resume);
  add_run("rollback",
          "Put the previous certificate back on every target the last rollout touched (files: "
          "the exact bytes it replaced), newest stage first, each verified by handshake",
          Action::Rollback);

  auto vf = std::make_shared<VerifyFlags>();
  auto* verify = app.add_subcommand(
      "verify",
      "Alignment report: the certificate every endpoint of a plan serves, whether it is the "
      "plan's, whether a client accepts it (chain, name), days left; exit 3 if any endpoint is "
      "not aligned");
  add_probe_flags(verify, *vf);
  verify->add_option("--stage", vf->stage, "Only this stage's endpoints");
  on_run(verify, rt, [vf](Runtime& r) { return run_verify(r, *vf); });
}

}  // namespace ck::cli
