#pragma once
// E-mail text: an RFC 5322 message with MIME UTF-8 headers for SMTP, and an
// RFC 6068 mailto: link for when mail is sent by hand.

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace ck::notify {

struct Mail {
  std::string from;             // "certkeeper@example.org" or "Name <addr>"
  std::vector<std::string> to;  // bare addresses
  std::string subject;          // UTF-8, one line (line breaks become spaces)
  std::string body;             // UTF-8, any line ends
};

/// The bare address of "Name <addr>" (or the text itself).
[[nodiscard]] std::string address_of(std::string_view mailbox);

/// "<random.unixtime@domain-of-from>", unique per message.
[[nodiscard]] std::string make_message_id(std::string_view random_hex, Seconds now,
                                          std::string_view from);

/// RFC 5322 date: "Mon, 23 Nov 2026 10:00:00 +0000".
[[nodiscard]] std::string rfc5322_date(Seconds t);

/// The complete message with CRLF line ends: Date, Message-ID, From, To,
/// Subject (RFC 2047 encoded when not ASCII), MIME-Version, Content-Type
/// text/plain; charset=UTF-8, and a 7bit body or, when it is not plain
/// ASCII with short lines, a base64 one.
[[nodiscard]] std::string format_mail(const Mail& mail, Seconds date, std::string_view message_id);

/// RFC 6068 link: mailto:to1,to2?subject=…&body=… (line breaks as %0D%0A).
[[nodiscard]] std::string mailto_link(const Mail& mail);

}  // namespace ck::notify
