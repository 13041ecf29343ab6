#include <iostream>

#include "cli/commands.h"
#include "core/printable.h"

namespace ck::cli {
namespace {

struct NotifyFlags {
  std::string within;
  bool dry_run = false;
  std::string resend;
  bool resend_given = false;  // `--resend ''` is an error, not "no resend"
};

nlohmann::json to_json(const notify::NotifyAction& a) {
  nlohmann::json j = {{"channel", a.channel},         {"method", a.method},
                      {"prints_only", a.prints_only}, {"outcome", a.outcome},
                      {"recipient", a.recipient},     {"summary", a.summary}};
  if (!a.user.empty()) {
    j["user"] = a.user;
    j["serial"] = a.serial;
  }
  if (a.outcome == "dry-run")
    j["body"] = a.body;
  for (const auto& [key, value] :
       {std::pair{"reference", &a.reference}, {"link", &a.link}, {"error", &a.error}}) {
    if (!value->empty())
      j[key] = *value;
  }
  return j;
}

// Indents every line of `text` by `prefix`.
std::string indented(const std::string& text, const std::string& prefix) {
  std::string out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto nl = std::min(text.find('\n', at), text.size());
    const auto line = text.substr(at, nl - at);
    out += "\n" + (line.empty() ? std::string() : prefix + line);
    at = nl + 1;
  }
  return out;
}

// What happened, on which channel, for whom; then the link to open, and for a
// dry run the whole message.
std::string line_of(const notify::NotifyAction& a) {
  std::string what = a.channel;
  if (!a.recipient.empty())
    what += " to " + a.recipient;
  what += " (" + a.method + ")";
  if (!a.user.empty())
    what += " for " + a.user + ", serial " + a.serial;
  if (!a.reference.empty())
    what += ": " + a.reference;
  if (a.outcome == "dry-run" && a.prints_only)
    what += ": would be printed, not sent";
  if (!a.error.empty())
    return what + ": " + a.error;
  if (a.outcome == "dry-run") {
    const bool ticket = a.channel == "ticket";
    what += std::string("\n  ") + (ticket ? "title: " : "subject: ") + a.summary;
    what += std::string("\n  ") + (ticket ? "description:" : "body:") + indented(a.body, "    ");
    if (!a.link.empty())
      what += "\n  link: " + a.link;
  } else if (!a.link.empty()) {
    what += "\n  " + a.link;
  }
  return what;
}

// "ticket (printed), email (sent) of bob, serial 0A1B".
std::string line_of(const notify::Resent& r) {
  std::string channels;
  for (const auto& [channel, state] : r.channels)
    channels += (channels.empty() ? "" : ", ") + channel + " (" + state + ")";
  return channels + " of " + r.user + ", serial " + r.serial;
}

nlohmann::json to_json(const notify::NotifyReport& report, const std::string& within,
                       bool dry_run) {
  nlohmann::json actions = nlohmann::json::array();
  for (const auto& a : report.actions)
    actions.push_back(to_json(a));
  nlohmann::json resent = nlohmann::json::array();
  for (const auto& r : report.resent) {
    nlohmann::json channels = nlohmann::json::array();
    for (const auto& [channel, state] : r.channels)
      channels.push_back({{"channel", channel}, {"state", state}});
    resent.push_back({{"user", r.user}, {"serial", r.serial}, {"forgotten", channels}});
  }
  nlohmann::json pending = nlohmann::json::array();
  for (const auto& p : report.pending) {
    pending.push_back({{"user", p.user},
                       {"serial", p.serial},
                       {"channel", p.channel},
                       {"method", p.method},
                       {"link", p.link},
                       {"printed_at", iso(p.printed_at)},
                       {"not_after", iso(p.not_after)}});
  }
  return {{"within", within},
          {"dry_run", dry_run},
          {"expiring", report.expiring},
          {"sent", report.sent},
          {"printed", report.printed},
          {"failed", report.failed},
          {"already_done", report.already},
          {"resend", resent},
          {"pending_printed", pending},
          {"warnings", report.warnings},
          {"actions", actions}};
}

// A failed channel is an error; notices that reached nobody (only printed,
// and no mailed digest lists them) are a problem a timer must not hide.
int exit_code(const notify::NotifyReport& report) {
  if (report.failed > 0)
    return kExitError;
  return report.nobody_written ? kExitProblems : kExitOk;
}

Exit run_notify(Runtime& rt, const NotifyFlags& f) {
  if (f.resend_given && f.resend.empty())
    return fail(Code::InvalidArgument,
                "--resend needs a certificate serial (hex), a user name or all");
  CK_ASSIGN(const auto window, rt.window(f.within));
  CK_ASSIGN(const auto setup, rt.notify_setup());
  CK_ASSIGN(const auto* cfg, rt.config());
  notify::NotifyRequest req{window.length, window.text, cfg->notify.ops_email, f.dry_run, f.resend};
  const auto on_resend = [&](const notify::Resent& r) {
    if (rt.json() || (rt.quiet() && !f.dry_run))
      return;
    if (r.channels.empty()) {
      std::cout << "resend: nothing recorded yet for " << r.user << ", serial " << r.serial
                << " (it goes out as usual)" << std::endl;
    } else {
      std::cout << (f.dry_run ? "dry-run resend: would forget " : "resend: forgot ") << line_of(r)
                << std::endl;
    }
  };
  const auto on_action = [&](const notify::NotifyAction& a) {
    if (rt.json())
      return;
    if (a.outcome == "failed") {
      std::cerr << "certkeeper: error: " << printable_line(line_of(a)) << std::endl;
    } else if (!rt.quiet() || a.outcome != "sent") {
      // --quiet leaves out what went as it should (sent); a notice that
      // exists only printed, one skipped, and a dry run's are kept.
      std::cout << a.outcome << " " << line_of(a) << std::endl;
    }
  };
  CK_ASSIGN(const auto report, setup->notifier->run(req, on_action, on_resend));
  if (rt.json()) {
    rt.print_json(to_json(report, window.text, f.dry_run));
    return exit_code(report);
  }
  for (const auto& w : report.warnings)
    rt.warn(w);
  if (rt.quiet())
    return exit_code(report);
  if (f.resend == "all" && report.resent.empty()) {
    std::cout << "resend: no certificate expiring within " << window.text
              << " has a recorded notice\n";
  }
  std::cout << "notify: " << report.expiring << " certificate(s) expire within " << window.text
            << "; " << report.sent << " sent, " << report.printed << " printed (not sent), "
            << report.failed << " failed, " << report.already << " already done";
  if (!report.pending.empty()) {
    std::cout << "; " << report.pending.size()
              << (f.dry_run ? " printed notice(s) for the digest to list"
                            : " printed notice(s) not acted on");
  }
  std::cout << (f.dry_run ? " (dry run: nothing sent or recorded)" : "") << "\n";
  return exit_code(report);
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
      "A link or mailto: link is only printed, not sent: it is recorded as printed, not\n"
      "printed again, and listed with its link in every digest until the certificate is\n"
      "renewed or expires. A failure is reported, the run goes on, exits 1, and the next\n"
      "run retries it. Printed notices that no mailed digest lists reach nobody: exit 3.\n"
      "Run it daily (contrib/systemd/certkeeper-notify.timer).");
  cmd->add_option("--within", flags->within, "Window from now (default: [notify] within, else 14d)")
      ->check(duration_validator());
  cmd->add_flag("--dry-run", flags->dry_run,
                "Show each message that would go out (subject, body, link); send and record "
                "nothing");
  auto* resend =
      cmd->add_option("--resend", flags->resend,
                      "Forget what was sent or printed for CERT (serial, hex), USER, or all "
                      "certificates in the window, and send it again in this run")
          ->type_name("CERT|USER|all");
  on_run(cmd, rt, [flags, resend](Runtime& r) {
    flags->resend_given = resend->count() > 0;
    return run_notify(r, *flags);
  });
}

}  // namespace ck::cli
