#pragma once
// `certkeeper notify`: tells people about certificates that expire soon.
// For each active certificate in the window: a ticket and an e-mail to its
// user, each at most once per certificate; and one digest a day to ops.
//
// A channel is recorded as done (store: notifications) only after it
// succeeded, in its own transaction, so a failure is retried by the next run
// and a success is never repeated. Callers serialise runs (a file lock): two
// runs at once could both send before either records.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "notify/channels.h"
#include "notify/template.h"
#include "store/store.h"

namespace ck::notify {

struct NotifyRequest {
  std::chrono::seconds within{std::chrono::days(14)};
  std::string within_text = "14d";  // as the operator wrote it, for messages
  std::string ops_email;            // empty: no digest
  bool dry_run = false;
};

struct NotifyAction {
  std::string channel;  // "ticket", "email", "digest"
  std::string method;   // "conduit", "smtp", ...
  std::string user;     // empty for the digest
  std::string serial;   // hex; empty for the digest
  std::string recipient;
  std::string summary;  // subject or title
  std::string outcome;  // "sent", "dry-run", "failed", "skipped"
  std::string reference;
  std::string link;
  std::string error;
};

struct NotifyReport {
  std::size_t expiring = 0;  // certificates in the window
  std::size_t sent = 0;
  std::size_t failed = 0;
  std::size_t already = 0;  // channels done by an earlier run
  std::vector<NotifyAction> actions;
};

class Notifier {
 public:
  /// `tickets` and `mail` may be null (channel not configured).
  Notifier(store::Store& store, const Clock& clock, const TemplateSet& templates,
           TicketChannel* tickets, MailChannel* mail, std::string actor);

  /// Runs once. `on_action` sees each action as it completes (progress).
  /// Fails only when the store cannot be read; a channel failure is an action
  /// with outcome "failed" and the run goes on.
  [[nodiscard]] Result<NotifyReport> run(const NotifyRequest& req,
                                         const std::function<void(const NotifyAction&)>& on_action);

 private:
  struct Notice;
  [[nodiscard]] Result<std::vector<Notice>> collect(const NotifyRequest& req, std::string& ca_name);
  void ticket(const Notice& n, Context& ctx, NotifyReport& report, const NotifyRequest& req,
              const std::function<void(const NotifyAction&)>& on_action);
  void email(const Notice& n, const Context& ctx, NotifyReport& report, const NotifyRequest& req,
             const std::function<void(const NotifyAction&)>& on_action);
  void digest(const std::vector<Notice>& notices, const Context& base, NotifyReport& report,
              const NotifyRequest& req, const std::function<void(const NotifyAction&)>& on_action);
  /// The template variables of one certificate (its messages, a digest row).
  static Variables variables(const Notice& n, Seconds now);
  /// Two templates rendered with `ctx`, trailing blank space trimmed.
  [[nodiscard]] Result<std::pair<std::string, std::string>> render_pair(const std::string& first,
                                                                        const std::string& second,
                                                                        const Context& ctx) const;
  /// Sends (unless a dry run), then records the channel as done in its own
  /// transaction; sets the action's outcome, reference, link and error.
  void complete(NotifyAction& a, bool dry_run, const std::function<Result<Delivered>()>& send,
                const std::string& key, const std::string& audit_subject,
                const std::string* ticket_serial);
  void send_mail(NotifyAction& a, const Context& ctx, const std::string& kind,
                 const std::string& key, const std::string& audit_subject, bool dry_run);
  static void finish(NotifyAction a, NotifyReport& report,
                     const std::function<void(const NotifyAction&)>& on_action);
  [[nodiscard]] Result<bool> already_done(const std::string& key, const std::string& channel);
  [[nodiscard]] Status record(const store::NotificationRecord& rec, const std::string& subject,
                              const std::string& detail, const std::string* ticket_serial);

  store::Store& store_;
  const Clock& clock_;
  const TemplateSet& templates_;
  TicketChannel* tickets_;
  MailChannel* mail_;
  std::string actor_;
};

}  // namespace ck::notify
