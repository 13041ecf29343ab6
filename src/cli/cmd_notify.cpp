#include <iostream>

#include "cli/commands.h"

namespace ck::cli {
namespace {

struct NotifyFlags {
  std::string within;
  bool dry_run = false;
};

nlohmann::json to_json(const notify::NotifyAction& a) {
  nlohmann::json j = {{"channel", a.channel},
                      {"method", a.method},
                      {"outcome", a.outcome},
                      {"recipient", a.recipient},
                      {"summary", a.summary}};
  if (!a.user.empty()) {
    j["user"] = a.user;
    j["serial"] = a.serial;
  }
  for (const auto& [key, value] :
       {std::pair{"reference", &a.reference}, {"link", &a.link}, {"error", &a.error}}) {
    if (!value->empty())
      j[key] = *value;
  }
  return j;
}

// One line per action: what happened, on which channel, for whom.
std::string line_of(const notify::NotifyAction& a) {
  std::string what = a.channel;
  if (!a.recipient.empty())
    what += " to " + a.recipient;
  what += " (" + a.method + ")";
  if (!a.user.empty())
    what += " for " + a.user + ", serial " + a.serial;
  if (!a.reference.empty())
    what += ": " + a.reference;
  if (a.outcome == "dry-run")
    what += ": \"" + a.summary + "\"";
  if (!a.link.empty())
    what += "\n  " + a.link;
  if (!a.error.empty())
    what += ": " + a.error;
  return what;
}

int run_notify(Runtime& rt, const NotifyFlags& f) {
  auto window = rt.window(f.within);
  if (!window)
    return rt.error(window.error());
  auto setup = rt.notify_setup();
  if (!setup)
    return rt.error(setup.error());
  auto cfg = rt.config();
  if (!cfg)
    return rt.error(cfg.error());
  notify::NotifyRequest req{window->length, window->text, (*cfg)->notify.ops_email, f.dry_run};
  auto report = (*setup)->notifier->run(req, [&](const notify::NotifyAction& a) {
    if (rt.json())
      return;
    if (a.outcome == "failed") {
      std::cerr << "certkeeper: error: " << line_of(a) << std::endl;
    } else {
      std::cout << a.outcome << " " << line_of(a) << std::endl;
    }
  });
  if (!report)
    return rt.error(report.error());
  if (rt.json()) {
    nlohmann::json actions = nlohmann::json::array();
    for (const auto& a : report->actions)
      actions.push_back(to_json(a));
    rt.print_json({{"within", window->text},
                   {"dry_run", f.dry_run},
                   {"expiring", report->expiring},
                   {"sent", report->sent},
                   {"failed", report->failed},
                   {"already_done", report->already},
                   {"actions", actions}});
  } else {
    std::cout << "notify: " << report->expiring << " certificate(s) expire within " << window->text
              << "; " << report->sent << " sent, " << report->failed << " failed, "
              << report->already << " already done"
              << (f.dry_run ? " (dry run: nothing sent or recorded)" : "") << "\n";
  }
  return report->failed > 0 ? kExitError : kExitOk;
}

}  // namespace

void add_notify_command(CLI::App& app, Runtime& rt) {
  auto flags = std::make_shared<NotifyFlags>();
  auto* cmd = app.add_subcommand(
      "notify",
      "Tickets and e-mails for certificates that expire soon, once per certificate.\n"
      "For each active certificate expiring within the window: a ticket ([notify] ticket:\n"
      "conduit, link, webhook) and an e-mail to its user ([notify] email: smtp, mailto), each\n"
      "recorded only after it succeeded; plus one digest a day to [notify] ops_email.\n"
      "A failure is reported, the run goes on, exits 1, and the next run retries it.\n"
      "Run it daily (contrib/systemd/certkeeper-notify.timer).");
  cmd->add_option("--within", flags->within, "Window from now (default: [notify] within, else 14d)")
      ->check(duration_validator());
  cmd->add_flag("--dry-run", flags->dry_run, "Show what would be sent; send and record nothing");
  on_run(cmd, rt, [flags](Runtime& r) { return run_notify(r, *flags); });
}

}  // namespace ck::cli
