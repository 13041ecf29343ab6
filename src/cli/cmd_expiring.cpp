#include <iostream>

#include "cli/commands.h"
#include "cli/render.h"

namespace ck::cli {
namespace {

struct ExpiringFlags {
  std::string within;  // empty: [notify] within, else 14d
  bool fail_if_any = false;
};

Exit run_expiring(Runtime& rt, const ExpiringFlags& f) {
  CK_ASSIGN(const auto window, rt.window(f.within));
  CK_ASSIGN(auto* auth, rt.authority());
  std::size_t count = 0;
  Status listed;
  if (rt.json()) {
    JsonArrayWriter out(rt);
    std::string row;
    listed = auth->expiring(window.length, [&](const ca::CertView& c) {
      ++count;
      append_json(row, c);
      out.add_raw(row);
    });
    out.finish();
  } else {
    std::string text;
    listed = auth->expiring(window.length, [&](const ca::CertView& c) {
      ++count;
      text += cert_line(c);
      text += '\n';
    });
    if (count == 0)
      text = "no active certificate expires within " + window.text + "\n";
    std::cout << text;
  }
  CK_TRY(listed);
  return (f.fail_if_any && count > 0) ? kExitProblems : kExitOk;
}

}  // namespace

void add_expiring_command(CLI::App& app, Runtime& rt) {
  auto flags = std::make_shared<ExpiringFlags>();
  auto* cmd =
      app.add_subcommand("expiring", "Active certificates that expire soon (or already did)");
  cmd->add_option("--within", flags->within, "Window from now (default: [notify] within, else 14d)")
      ->check(duration_validator());
  cmd->add_flag("--fail-if-any", flags->fail_if_any, "Exit 3 when any certificate is listed");
  on_run(cmd, rt, [flags](Runtime& r) { return run_expiring(r, *flags); });
}

}  // namespace ck::cli
