#pragma once
// Where `notify` sends things: one ticket channel (a Phabricator task through
// Conduit, a prefilled link, or a webhook) and one mail channel (SMTP, or a
// mailto: link to click). Each call either succeeds completely or fails with
// an error that names the peer and never contains a credential.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/pem.h"
#include "core/random.h"
#include "net/smtp_client.h"
#include "notify/mail_message.h"
#include "notify/template.h"

namespace ck::notify {

struct Delivered {
  std::string reference;  // ticket id ("T1234"), Message-ID; may be empty
  std::string link;       // for link/mailto: the URL the operator opens
};

class TicketChannel {
 public:
  virtual ~TicketChannel() = default;
  [[nodiscard]] virtual const char* method() const = 0;
  /// True when the channel only hands back a link for a person to open
  /// (nothing reaches anyone by itself). Such a channel has no side effects,
  /// so a dry run may call it to show the link.
  [[nodiscard]] virtual bool prints_only() const = 0;
  /// Opens a ticket. `ctx` holds the certificate's variables plus the rendered
  /// `title` and `description`.
  [[nodiscard]] virtual Result<Delivered> open(const Context& ctx) = 0;
};

class MailChannel {
 public:
  virtual ~MailChannel() = default;
  [[nodiscard]] virtual const char* method() const = 0;
  /// As TicketChannel::prints_only (a mailto: link instead of a mail).
  [[nodiscard]] virtual bool prints_only() const = 0;
  [[nodiscard]] virtual Result<Delivered> send(const Mail& mail) = 0;
};

/// Settings shared by the HTTP channels.
struct HttpSettings {
  std::chrono::milliseconds timeout{30000};
  std::optional<std::filesystem::path> ca_file;
};

/// Prints a prefilled "create task" URL: `url_template` rendered with every
/// variable URL-encoded.
[[nodiscard]] std::unique_ptr<TicketChannel> link_tickets(std::string url_template);

/// Phabricator Conduit `maniphest.edit`: creates a task (title, description,
/// projects) and returns its id as "T<id>".
[[nodiscard]] std::unique_ptr<TicketChannel> conduit_tickets(std::string url, Secret token,
                                                             std::vector<std::string> projects,
                                                             HttpSettings http);

/// POSTs `body_template` rendered with JSON-escaped variables, with a bearer
/// token when one is given. When `id_field` is set, the ticket id is that
/// top-level field of the JSON response.
[[nodiscard]] std::unique_ptr<TicketChannel> webhook_tickets(std::string url,
                                                             std::optional<Secret> token,
                                                             std::string body_template,
                                                             std::string id_field,
                                                             HttpSettings http);

/// Sends through an SMTP server; the reference is the Message-ID.
[[nodiscard]] std::unique_ptr<MailChannel> smtp_mail(net::SmtpSettings smtp, std::string from,
                                                     const Clock& clock, RandomSource& random);

/// Prints an RFC 6068 mailto: link instead of sending.
[[nodiscard]] std::unique_ptr<MailChannel> mailto_mail();

}  // namespace ck::notify
