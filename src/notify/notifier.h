#pragma once
// `certkeeper notify`: tells people about certificates that expire soon.
// For each active certificate in the window: a ticket and an e-mail to its
// user, each at most once per certificate; and one digest a day to ops.
//
// A channel is recorded as done (store: notifications) only after it
// succeeded, in its own transaction, so a failure is retried by the next run
// and a success is never repeated. Callers serialise runs (a file lock): two
// runs at once could both send before either records.
//
// A channel that only prints a link (ticket link, mailto:) reaches nobody by
// itself, so its notice is recorded as Printed, not Sent: it is not printed
// again (that would flood a timer's output), but every digest lists it with
// its link until the certificate is renewed, revoked or expired. `--resend`
// forgets what was recorded for a certificate so the same run does it again.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
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
  /// `--resend`: empty (none), "all" (every certificate in the window with a
  /// record), a user name, or a certificate serial in hex.
  std::string resend;
};

struct NotifyAction {
  std::string channel;       // "ticket", "email", "digest"
  std::string method;        // "conduit", "smtp", ...
  bool prints_only = false;  // the channel only prints a link (link, mailto)
  std::string user;          // empty for the digest
  std::string serial;        // hex; empty for the digest
  std::string recipient;
  std::string summary;  // subject or title
  std::string body;     // mail body or ticket description
  std::string outcome;  // "sent", "printed", "dry-run", "failed", "skipped"
  std::string reference;
  std::string link;
  std::string error;
};

/// A notice that was only printed and whose certificate is still active and
/// unexpired: nobody has acted on it as far as certkeeper can tell.
struct PrintedNotice {
  std::string user;
  std::string serial;  // hex
  std::string channel;
  std::string method;
  std::string link;  // empty for records older than the printed state
  Seconds printed_at{};
  Seconds not_after{};
};

/// What `--resend` forgot for one certificate.
struct Resent {
  std::string user;
  std::string serial;                                         // hex
  std::vector<std::pair<std::string, std::string>> channels;  // channel, "sent"/"printed"
};

struct NotifyReport {
  std::size_t expiring = 0;  // certificates in the window
  std::size_t sent = 0;
  std::size_t printed = 0;  // by this run
  std::size_t failed = 0;
  std::size_t already = 0;  // channels done by an earlier run
  std::vector<NotifyAction> actions;
  std::vector<Resent> resent;
  std::vector<PrintedNotice> pending;  // printed, not acted on (this run's included)
  std::vector<std::string> warnings;
  /// Printed notices wait and no mailed digest lists them: nobody has been
  /// written to (the CLI exits 3, so an unread timer shows it).
  bool nobody_written = false;
};

class Notifier {
 public:
  /// `tickets` and `mail` may be null (channel not configured).
  Notifier(store::Store& store, const Clock& clock, const TemplateSet& templates,
           TicketChannel* tickets, MailChannel* mail, std::string actor);

  /// Runs once. `on_action` sees each action as it completes (progress), and
  /// `on_resend` each certificate `req.resend` forgot, before anything is sent.
  /// Fails when the store cannot be read or `req.resend` names nothing to
  /// resend (then nothing is sent or changed); a channel failure is an action
  /// with outcome "failed" and the run goes on.
  [[nodiscard]] Result<NotifyReport> run(
      const NotifyRequest& req, const std::function<void(const NotifyAction&)>& on_action,
      const std::function<void(const Resent&)>& on_resend = [](const Resent&) {});

 private:
  struct Notice;
  [[nodiscard]] Result<std::vector<Notice>> collect(const NotifyRequest& req, std::string& ca_name);
  /// The notices `req.resend` names; fails naming the target when there are none.
  [[nodiscard]] Result<std::vector<Notice*>> resend_targets(const NotifyRequest& req,
                                                            std::vector<Notice>& notices);
  /// Forgets the records of the targets (unless a dry run), so this run sends again.
  [[nodiscard]] Result<std::vector<Resent>> resend(const NotifyRequest& req,
                                                   std::vector<Notice>& notices);
  /// Printed notices still waiting: from the store, plus in a dry run what
  /// this run would print.
  [[nodiscard]] Result<std::vector<PrintedNotice>> pending(const NotifyRequest& req,
                                                           const std::vector<Notice>& notices,
                                                           const NotifyReport& report);
  void ticket(const Notice& n, Context& ctx, NotifyReport& report, const NotifyRequest& req,
              const std::function<void(const NotifyAction&)>& on_action);
  void email(const Notice& n, const Context& ctx, NotifyReport& report, const NotifyRequest& req,
             const std::function<void(const NotifyAction&)>& on_action);
  void digest(const std::vector<Notice>& notices, const Context& base, NotifyReport& report,
              const NotifyRequest& req, const std::function<void(const NotifyAction&)>& on_action);
  /// A certificate's action on `via` (a TicketChannel or MailChannel).
  template <class Channel>
  static NotifyAction action(const char* channel, const Channel& via, const Notice& n,
                             const std::string& recipient);
  /// Says so when printed notices wait and no mailed digest lists them.
  void warn_unsent(const NotifyRequest& req, NotifyReport& report) const;
  /// The template variables of one certificate (its messages, a digest row).
  static Variables variables(const Notice& n, Seconds now);
  /// Two templates rendered with `ctx`, trailing blank space trimmed.
  [[nodiscard]] Result<std::pair<std::string, std::string>> render_pair(const std::string& first,
                                                                        const std::string& second,
                                                                        const Context& ctx) const;
  /// Sends (unless a dry run: then only a printing channel is called, for its
  /// link), then records the channel as sent or printed in its own
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
