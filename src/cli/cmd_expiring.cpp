#include <iostream>
#include <set>
#include <string>
#include <vector>

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
    // Rows for people are few (a window), so they are kept, and the users'
    // names read once for all of them.
    std::vector<ca::CertView> rows;
    std::set<std::string> users;
    listed = auth->expiring(window.length, [&](const ca::CertView& c) {
      ++count;
      rows.push_back(c);
      users.insert(c.user);
    });
    CK_TRY(listed);
    if (count == 0) {
      std::cout << "no active certificate expires within " << window.text << "\n";
    } else {
      CK_ASSIGN(const auto profiles, auth->profiles_of(users));
      std::cout << cert_table(rows, profiles, rt.clock().now_seconds()).str();
    }
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
