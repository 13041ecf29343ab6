#include "notify/notifier.h"

#include <algorithm>
#include <map>

#include "core/fault.h"
#include "core/hex.h"
#include "core/time_format.h"

namespace ck::notify {

struct Notifier::Notice {
  store::UserProfile user;
  std::string serial;  // bytes
  std::string serial_hex;
  Seconds not_before{};
  Seconds not_after{};
  std::string ticket;
  std::optional<store::NotificationRecord> ticket_done;  // recorded by an earlier run
  std::optional<store::NotificationRecord> email_done;
};

namespace {

std::string date_of(Seconds t) {
  return format_iso8601(t).substr(0, 10);
}

// Whole days left, rounded down (negative once expired).
std::int64_t days_left(Seconds not_after, Seconds now) {
  return std::chrono::floor<std::chrono::days>(not_after - now).count();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.pop_back();
  return s;
}

// A serial as an operator types it (hex, either case, optional colons; an odd
// number of digits allowed) as the store keys certificates: the magnitude
// without leading zero bytes. nullopt when the text is not hex.
std::optional<std::string> serial_of(const std::string& text) {
  auto bytes = from_hex(text);
  if (!bytes)
    bytes = from_hex("0" + text);
  if (!bytes || bytes->empty())
    return std::nullopt;
  return bytes->substr(std::min(bytes->find_first_not_of('\0'), bytes->size() - 1));
}

}  // namespace

template <class Channel>
NotifyAction Notifier::action(const char* channel, const Channel& via, const Notice& n,
                              const std::string& recipient) {
  NotifyAction a;
  a.channel = channel;
  a.method = via.method();
  a.prints_only = via.prints_only();
  a.user = n.user.name;
  a.serial = n.serial_hex;
  a.recipient = recipient;
  return a;
}

Notifier::Notifier(store::Store& store, const Clock& clock, const TemplateSet& templates,
                   TicketChannel* tickets, MailChannel* mail, std::string actor)
    : store_(store),
      clock_(clock),
      templates_(templates),
      tickets_(tickets),
      mail_(mail),
      actor_(std::move(actor)) {}

Result<std::vector<Notifier::Notice>> Notifier::collect(const NotifyRequest& req,
                                                        std::string& ca_name) {
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(const auto ca, tx->find_ca());
  if (!ca)
    return fail(Code::FailedPrecondition, "no CA in this home yet (run `certkeeper ca init`)");
  ca_name = ca->name;
  std::vector<Notice> notices;
  CK_TRY(tx->for_each_expiring(clock_.now_seconds() + req.within, [&](const store::CertRecord& c) {
    Notice n;
    n.user.name = c.user;
    n.serial = c.serial;
    n.serial_hex = to_hex(c.serial);
    n.not_before = c.not_before;
    n.not_after = c.not_after;
    n.ticket = c.ticket;
    notices.push_back(std::move(n));
  }));
  for (auto& n : notices) {
    CK_ASSIGN(const auto user, tx->find_user(n.user.name));
    if (user)
      n.user = user->profile;
    CK_ASSIGN(n.ticket_done, tx->find_notification(n.serial_hex, "ticket"));
    CK_ASSIGN(n.email_done, tx->find_notification(n.serial_hex, "email"));
  }
  return notices;
}

Result<std::vector<Notifier::Notice*>> Notifier::resend_targets(const NotifyRequest& req,
                                                                std::vector<Notice>& notices) {
  std::vector<Notice*> targets;
  if (req.resend == "all") {
    for (auto& n : notices) {
      if (n.ticket_done || n.email_done)
        targets.push_back(&n);
    }
    return targets;
  }
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(const auto user, tx->find_user(req.resend));
  if (user) {
    for (auto& n : notices) {
      if (n.user.name == user->profile.name)
        targets.push_back(&n);
    }
    if (targets.empty()) {
      return fail(Code::FailedPrecondition,
                  "--resend: user '" + req.resend + "' has no active certificate expiring within " +
                      req.within_text + ", so notify sends nothing for it");
    }
    return targets;
  }
  std::optional<store::CertRecord> cert;
  if (const auto serial = serial_of(req.resend)) {
    CK_ASSIGN(cert, tx->find_cert(*serial));
  }
  if (!cert) {
    return fail(Code::NotFound,
                "--resend: no user or certificate serial '" + req.resend + "' in this CA");
  }
  const auto hex = to_hex(cert->serial);
  for (auto& n : notices) {
    if (n.serial_hex == hex)
      targets.push_back(&n);
  }
  if (targets.empty()) {
    return fail(Code::FailedPrecondition, "--resend: certificate " + hex + " of user '" +
                                              cert->user + "' is not active and expiring within " +
                                              req.within_text + ", so notify sends nothing for it");
  }
  return targets;
}

Result<std::vector<Resent>> Notifier::resend(const NotifyRequest& req,
                                             std::vector<Notice>& notices) {
  std::vector<Resent> resent;
  if (req.resend.empty())
    return resent;
  CK_ASSIGN(const auto targets, resend_targets(req, notices));
  for (const auto* n : targets) {
    Resent r{n->user.name, n->serial_hex, {}};
    for (const auto* rec : {&n->ticket_done, &n->email_done}) {
      if (*rec)
        r.channels.emplace_back((*rec)->channel, store::to_string((*rec)->state));
    }
    resent.push_back(std::move(r));
  }
  if (!req.dry_run) {
    // One transaction: either every target is forgotten (and audited) or none.
    CK_ASSIGN(auto tx, store_.write());
    for (const auto& r : resent) {
      if (r.channels.empty())
        continue;
      CK_ASSIGN(const auto gone, tx->forget_notifications(r.serial));
      std::string detail = "forgot " + std::to_string(gone) + " record(s) for serial " + r.serial;
      CK_TRY(tx->audit(
          store::AuditEntry{clock_.now_seconds(), actor_, "notify.resend", r.user, detail}));
    }
    CK_TRY(tx->commit());
  }
  for (auto* n : targets) {
    n->ticket_done.reset();
    n->email_done.reset();
  }
  return resent;
}

Status Notifier::record(const store::NotificationRecord& rec, const std::string& subject,
                        const std::string& detail, const std::string* ticket_serial) {
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(tx->record_notification(rec));
  if (ticket_serial != nullptr && !rec.reference.empty())
    CK_TRY(tx->set_cert_ticket(*ticket_serial, rec.reference));
  CK_TRY(tx->audit(store::AuditEntry{rec.at, actor_, "notify." + rec.channel, subject, detail}));
  return tx->commit();
}

Variables Notifier::variables(const Notice& n, Seconds now) {
  return {{"user", n.user.name},
          {"cn", n.user.cn},
          {"email", n.user.email},
          {"phone", n.user.phone},
          {"org", n.user.org},
          {"ou", n.user.ou},
          {"serial", n.serial_hex},
          {"not_before", format_iso8601(n.not_before)},
          {"not_after", format_iso8601(n.not_after)},
          {"not_after_date", date_of(n.not_after)},
          {"days_left", std::to_string(days_left(n.not_after, now))},
          {"ticket", n.ticket}};
}

Result<NotifyReport> Notifier::run(const NotifyRequest& req,
                                   const std::function<void(const NotifyAction&)>& on_action,
                                   const std::function<void(const Resent&)>& on_resend) {
  std::string ca_name;
  CK_ASSIGN(auto notices, collect(req, ca_name));
  NotifyReport report;
  CK_ASSIGN(report.resent, resend(req, notices));
  for (const auto& r : report.resent)
    on_resend(r);
  report.expiring = notices.size();
  const auto now = clock_.now_seconds();
  Context base;
  base.vars = {{"ca", ca_name}, {"within", req.within_text}, {"date", date_of(now)}};
  for (auto& n : notices) {
    Context ctx = base;
    ctx.vars.merge(variables(n, now));
    ticket(n, ctx, report, req, on_action);
    n.ticket = ctx.vars["ticket"];
    email(n, ctx, report, req, on_action);
  }
  CK_ASSIGN(report.pending, pending(req, notices, report));
  digest(notices, base, report, req, on_action);
  warn_unsent(req, report);
  return report;
}

Result<std::vector<PrintedNotice>> Notifier::pending(const NotifyRequest& req,
                                                     const std::vector<Notice>& notices,
                                                     const NotifyReport& report) {
  const auto now = clock_.now_seconds();
  // Keyed by (serial, channel): a dry run's would-be print replaces the
  // record that a dry-run resend would forget.
  std::map<std::pair<std::string, std::string>, PrintedNotice> waiting;
  {
    CK_ASSIGN(auto tx, store_.read());
    CK_ASSIGN(const auto printed, tx->printed_notifications());
    for (const auto& rec : printed) {
      const auto serial = rec.channel == "digest" ? std::nullopt : from_hex(rec.key);
      if (!serial)
        continue;  // a day's digest: nothing for a certificate to act on
      CK_ASSIGN(const auto cert, tx->find_cert(*serial));
      // Renewed (superseded), revoked or expired: nothing left to act on.
      if (!cert || cert->status != store::CertStatus::Active || cert->not_after <= now)
        continue;
      waiting[{rec.key, rec.channel}] = PrintedNotice{
          cert->user, rec.key, rec.channel, rec.method, rec.link, rec.at, cert->not_after};
    }
  }
  if (req.dry_run) {
    for (const auto& a : report.actions) {
      const auto n = std::find_if(notices.begin(), notices.end(),
                                  [&](const Notice& x) { return x.serial_hex == a.serial; });
      if (a.prints_only && a.outcome == "dry-run" && n != notices.end()) {
        waiting[{a.serial, a.channel}] =
            PrintedNotice{a.user, a.serial, a.channel, a.method, a.link, now, n->not_after};
      }
    }
  }
  std::vector<PrintedNotice> out;
  for (auto& [key, p] : waiting)
    out.push_back(std::move(p));
  std::stable_sort(out.begin(), out.end(), [](const PrintedNotice& a, const PrintedNotice& b) {
    return a.not_after < b.not_after;
  });
  return out;
}

Result<std::pair<std::string, std::string>> Notifier::render_pair(const std::string& first,
                                                                  const std::string& second,
                                                                  const Context& ctx) const {
  CK_ASSIGN(auto a, render_context(templates_.text(first), ctx, first + " template"));
  CK_ASSIGN(auto b, render_context(templates_.text(second), ctx, second + " template"));
  return std::pair{trimmed(std::move(a)), trimmed(std::move(b))};
}

void Notifier::complete(NotifyAction& a, bool dry_run,
                        const std::function<Result<Delivered>()>& send, const std::string& key,
                        const std::string& audit_subject, const std::string* ticket_serial) {
  if (dry_run) {
    a.outcome = "dry-run";
    // A printing channel has no side effects: call it to show the link.
    if (a.prints_only) {
      auto shown = send();
      if (shown)
        a.link = shown->link;
    }
    return;
  }
  auto done = send();
  if (!done) {
    a.outcome = "failed";
    a.error = done.error().message;
    return;
  }
  // Sent, not yet recorded: the next run sends it again (at least once).
  CK_FAULT_POINT("notify.after_send");
  a.reference = done->reference;
  a.link = done->link;
  const auto state =
      a.prints_only ? store::NotificationState::Printed : store::NotificationState::Sent;
  const store::NotificationRecord rec{key,
                                      a.channel,
                                      a.method,
                                      clock_.now_seconds(),
                                      a.reference,
                                      state,
                                      a.prints_only ? a.link : ""};
  std::string detail = a.method + " " + a.channel + " " + store::to_string(state);
  if (!a.recipient.empty())
    detail += " to " + a.recipient;
  if (!a.reference.empty())
    detail += " " + a.reference;
  if (!a.serial.empty())
    detail += " for serial " + a.serial;
  auto recorded = record(rec, audit_subject, detail, ticket_serial);
  CK_FAULT_POINT("notify.after_record");  // recorded: never sent again
  a.outcome = recorded ? store::to_string(state) : "failed";
  if (!recorded)
    a.error = "done, but not recorded (the next run repeats it): " + recorded.error().message;
}

void Notifier::finish(NotifyAction a, NotifyReport& report,
                      const std::function<void(const NotifyAction&)>& on_action) {
  report.failed += a.outcome == "failed" ? 1 : 0;
  report.sent += a.outcome == "sent" ? 1 : 0;
  report.printed += a.outcome == "printed" ? 1 : 0;
  on_action(a);
  report.actions.push_back(std::move(a));
}

void Notifier::ticket(const Notice& n, Context& ctx, NotifyReport& report, const NotifyRequest& req,
                      const std::function<void(const NotifyAction&)>& on_action) {
  if (tickets_ == nullptr)
    return;
  if (n.ticket_done) {
    ++report.already;
    return;
  }
  auto a = action("ticket", *tickets_, n, "");
  auto texts = render_pair("ticket_title", "ticket_description", ctx);
  if (!texts) {
    a.outcome = "failed";
    a.error = texts.error().message;
  } else {
    a.summary = texts->first;
    a.body = texts->second;
    ctx.vars["title"] = texts->first;
    ctx.vars["description"] = texts->second;
    complete(
        a, req.dry_run, [&] { return tickets_->open(ctx); }, n.serial_hex, n.user.name, &n.serial);
    if (a.outcome == "sent" && !a.reference.empty())
      ctx.vars["ticket"] = a.reference;
  }
  finish(std::move(a), report, on_action);
}

void Notifier::send_mail(NotifyAction& a, const Context& ctx, const std::string& kind,
                         const std::string& key, const std::string& audit_subject, bool dry_run) {
  auto texts = render_pair(kind + "_subject", kind + "_body", ctx);
  if (!texts) {
    a.outcome = "failed";
    a.error = texts.error().message;
    return;
  }
  a.summary = texts->first;
  a.body = texts->second;
  complete(
      a, dry_run,
      [&] {
        return mail_->send(Mail{"", {a.recipient}, a.summary, texts->second});
      },
      key, audit_subject, nullptr);
}

void Notifier::email(const Notice& n, const Context& ctx, NotifyReport& report,
                     const NotifyRequest& req,
                     const std::function<void(const NotifyAction&)>& on_action) {
  if (mail_ == nullptr)
    return;
  if (n.email_done) {
    ++report.already;
    return;
  }
  auto a = action("email", *mail_, n, n.user.email);
  if (n.user.email.empty()) {
    a.outcome = "skipped";
    a.error = "user " + n.user.name + " has no e-mail address (user renew --email)";
  } else {
    send_mail(a, ctx, "email", n.serial_hex, n.user.name, req.dry_run);
  }
  finish(std::move(a), report, on_action);
}

void Notifier::digest(const std::vector<Notice>& notices, const Context& base, NotifyReport& report,
                      const NotifyRequest& req,
                      const std::function<void(const NotifyAction&)>& on_action) {
  if (mail_ == nullptr || req.ops_email.empty() || (notices.empty() && report.pending.empty()))
    return;
  const std::string day = base.vars.at("date");
  NotifyAction a;
  a.channel = "digest";
  a.method = mail_->method();
  a.prints_only = mail_->prints_only();
  a.recipient = req.ops_email;
  auto done = already_done(day, "digest");
  if (done && *done) {
    ++report.already;
    return;
  }
  if (!done) {
    a.outcome = "failed";
    a.error = done.error().message;
  } else {
    const auto now = clock_.now_seconds();
    Context ctx = base;
    ctx.vars["count"] = std::to_string(notices.size());
    auto& rows = ctx.lists["certificates"];
    for (const auto& n : notices)
      rows.push_back(variables(n, now));
    // Empty, so left out, when nothing waits: {{#printed_count}} hides the section.
    ctx.vars["printed_count"] = report.pending.empty() ? "" : std::to_string(report.pending.size());
    auto& printed = ctx.lists["printed"];
    for (const auto& p : report.pending) {
      printed.push_back({{"user", p.user},
                         {"serial", p.serial},
                         {"channel", p.channel},
                         {"method", p.method},
                         {"link", p.link},
                         {"printed_on", date_of(p.printed_at)},
                         {"not_after", format_iso8601(p.not_after)},
                         {"not_after_date", date_of(p.not_after)},
                         {"days_left", std::to_string(days_left(p.not_after, now))}});
    }
    send_mail(a, ctx, "digest", day, req.ops_email, req.dry_run);
  }
  finish(std::move(a), report, on_action);
}

void Notifier::warn_unsent(const NotifyRequest& req, NotifyReport& report) const {
  if (req.dry_run || report.pending.empty())
    return;
  const bool digest_configured = mail_ != nullptr && !req.ops_email.empty();
  if (digest_configured && !mail_->prints_only())
    return;  // every mailed digest lists them
  std::string w =
      std::to_string(report.pending.size()) + " notice(s) were only printed, not sent, ";
  w += digest_configured ? "and the ops digest that lists them is only printed too (" +
                               std::string(mail_->method()) + ")"
                         : "and no ops digest lists them ([notify] ops_email with email = "
                           "\"smtp\" would)";
  report.warnings.push_back(w + ": nobody has been written to");
  report.nobody_written = true;
}

Result<bool> Notifier::already_done(const std::string& key, const std::string& channel) {
  CK_ASSIGN(auto tx, store_.read());
  return tx->notified(key, channel);
}

}  // namespace ck::notify
