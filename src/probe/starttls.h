#pragma once
// The plain-text exchange before a STARTTLS handshake (RFC 3207 SMTP,
// RFC 3501 IMAP, RFC 2595 POP3), as a state machine fed with whatever bytes
// arrived, so the scanner can drive it from its event loop.

#include <string>
#include <string_view>

#include "probe/target.h"

namespace ck::probe {

class StartTlsDialog {
 public:
  /// The most a server may send before its answer to STARTTLS.
  static constexpr std::size_t kMaxBytes = 16 * 1024;

  explicit StartTlsDialog(StartTls proto) : proto_(proto) {}

  struct Step {
    std::string send;   // to write to the server now (may be empty)
    bool done = false;  // the server agreed: start the TLS handshake
    std::string error;  // non-empty: the server refused or spoke nonsense
  };
  /// Feeds bytes received from the server.
  Step feed(std::string_view data);

 private:
  enum class State { Greeting, Hello, Answer, Done };
  Step on_line(std::string_view line);
  Step on_smtp_reply(std::string_view last_line);

  StartTls proto_;
  State state_ = State::Greeting;
  std::string buffer_;
  std::size_t received_ = 0;
  bool offers_starttls_ = false;  // SMTP: seen in the EHLO reply
};

}  // namespace ck::probe
