#include "notify/notifier.h"

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
  bool ticket_done = false;
  bool email_done = false;
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

}  // namespace

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
    CK_ASSIGN(n.ticket_done, tx->notified(n.serial_hex, "ticket"));
    CK_ASSIGN(n.email_done, tx->notified(n.serial_hex, "email"));
  }
  return notices;
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
                                   const std::function<void(const NotifyAction&)>& on_action) {
  std::string ca_name;
  CK_ASSIGN(auto notices, collect(req, ca_name));
  NotifyReport report;
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
  digest(notices, base, report, req, on_action);
  return report;
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
    return;
  }
  auto done = send();
  if (!done) {
    a.outcome = "failed";
    a.error = done.error().message;
    return;
  }
  a.reference = done->reference;
  a.link = done->link;
  const store::NotificationRecord rec{key, a.channel, a.method, clock_.now_seconds(), a.reference};
  std::string detail = a.method + " " + a.channel;
  if (!a.recipient.empty())
    detail += " to " + a.recipient;
  if (!a.reference.empty())
    detail += " " + a.reference;
  if (!a.serial.empty())
    detail += " for serial " + a.serial;
  auto recorded = record(rec, audit_subject, detail, ticket_serial);
  a.outcome = recorded ? "sent" : "failed";
  if (!recorded)
    a.error = "done, but not recorded (the next run repeats it): " + recorded.error().message;
}

void Notifier::finish(NotifyAction a, NotifyReport& report,
                      const std::function<void(const NotifyAction&)>& on_action) {
  report.failed += a.outcome == "failed" ? 1 : 0;
  report.sent += a.outcome == "sent" ? 1 : 0;
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
  NotifyAction a{"ticket", tickets_->method(), n.user.name, n.serial_hex, "", "", "", "", "", ""};
  auto texts = render_pair("ticket_title", "ticket_description", ctx);
  if (!texts) {
    a.outcome = "failed";
    a.error = texts.error().message;
  } else {
    a.summary = texts->first;
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
  NotifyAction a{"email", mail_->method(), n.user.name, n.serial_hex, n.user.email, "", "", "", "",
                 ""};
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
  if (mail_ == nullptr || req.ops_email.empty() || notices.empty())
    return;
  const std::string day = base.vars.at("date");
  NotifyAction a{"digest", mail_->method(), "", "", req.ops_email, "", "", "", "", ""};
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
    send_mail(a, ctx, "digest", day, req.ops_email, req.dry_run);
  }
  finish(std::move(a), report, on_action);
}

Result<bool> Notifier::already_done(const std::string& key, const std::string& channel) {
  CK_ASSIGN(auto tx, store_.read());
  return tx->notified(key, channel);
}

}  // namespace ck::notify
