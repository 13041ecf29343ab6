#include <iostream>

#include "cli/commands.h"
#include "cli/render.h"
#include "core/duration.h"

namespace ck::cli {
namespace {

struct ExpiringFlags {
  std::string within = "14d";
  bool fail_if_any = false;
};

int run_expiring(Runtime& rt, const ExpiringFlags& f) {
  auto within = parse_duration(f.within);
  if (!within)
    return rt.error(std::move(within).error().context("--within"));
  auto auth = rt.authority();
  if (!auth)
    return rt.error(auth.error());
  auto certs = (*auth)->expiring(*within);
  if (!certs)
    return rt.error(certs.error());
  if (rt.json()) {
    rt.print_json_array(*certs, [](const ca::CertView& c) { return to_json(c); });
  } else if (certs->empty()) {
    std::cout << "no active certificate expires within " << f.within << "\n";
  } else {
    for (const auto& c : *certs)
      std::cout << cert_line(c) << "\n";
  }
  return (f.fail_if_any && !certs->empty()) ? kExitProblems : kExitOk;
}

}  // namespace

void add_expiring_command(CLI::App& app, Runtime& rt) {
  auto flags = std::make_shared<ExpiringFlags>();
  auto* cmd =
      app.add_subcommand("expiring", "Active certificates that expire soon (or already did)");
  cmd->add_option("--within", flags->within, "Window from now")
      ->check(duration_validator())
      ->capture_default_str();
  cmd->add_flag("--fail-if-any", flags->fail_if_any, "Exit 3 when any certificate is listed");
  on_run(cmd, rt, [flags](Runtime& r) { return run_expiring(r, *flags); });
}

}  // namespace ck::cli
