#include "probe/starttls.h"

#include <algorithm>
#include <cctype>

namespace ck::probe {
namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::toupper(static_cast<unsigned char>(a)) ==
                  std::toupper(static_cast<unsigned char>(b));
         });
}

std::string quoted(std::string_view line) {
  std::string out;
  for (const char c : line.substr(0, 120))
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  return "'" + out + "'";
}

}  // namespace

StartTlsDialog::Step StartTlsDialog::feed(std::string_view data) {
  received_ += data.size();
  if (received_ > kMaxBytes)
    return {{}, false, "the server sent more than 16 KiB without agreeing to STARTTLS"};
  buffer_.append(data);
  Step out;
  std::size_t start = 0;
  for (;;) {
    const auto nl = buffer_.find('\n', start);
    if (nl == std::string::npos)
      break;
    std::string_view line(buffer_.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    start = nl + 1;
    Step step = on_line(line);
    out.send += step.send;
    if (!step.error.empty() || step.done) {
      out.error = std::move(step.error);
      out.done = step.done;
      if (out.done && start != buffer_.size())
        out.error = "the server sent data after agreeing to STARTTLS";  // RFC 3207 §4.2 forbids it
      out.done = out.done && out.error.empty();
      return out;
    }
  }
  buffer_.erase(0, start);
  return out;
}

StartTlsDialog::Step StartTlsDialog::on_smtp_reply(std::string_view line) {
  // A reply is "NNN-text" lines ending with one "NNN text" line.
  if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])))
    return {{}, false, "not an SMTP reply: " + quoted(line)};
  if (line.size() > 3 && line[3] == '-') {
    if (state_ == State::Hello && starts_with_nocase(line.substr(4), "STARTTLS"))
      offers_starttls_ = true;
    return {};
  }
  const std::string_view code = line.substr(0, 3);
  switch (state_) {
    case State::Greeting:
      if (code != "220")
        return {{}, false, "SMTP greeting refused: " + quoted(line)};
      state_ = State::Hello;
      return {"EHLO certkeeper.invalid\r\n", false, {}};
    case State::Hello:
      if (line.size() > 4 && starts_with_nocase(line.substr(4), "STARTTLS"))
        offers_starttls_ = true;
      if (code != "250")
        return {{}, false, "EHLO refused: " + quoted(line)};
      if (!offers_starttls_)
        return {{}, false, "the server does not offer STARTTLS"};
      state_ = State::Answer;
      return {"STARTTLS\r\n", false, {}};
    case State::Answer:
      if (code != "220")
        return {{}, false, "STARTTLS refused: " + quoted(line)};
      state_ = State::Done;
      return {{}, true, {}};
    case State::Done:
      break;
  }
  return {};
}

StartTlsDialog::Step StartTlsDialog::on_line(std::string_view line) {
  switch (proto_) {
    case StartTls::Smtp:
      return on_smtp_reply(line);
    case StartTls::Imap:
      if (state_ == State::Greeting) {
        if (!starts_with_nocase(line, "* OK"))
          return {{}, false, "IMAP greeting refused: " + quoted(line)};
        state_ = State::Answer;
        return {"a001 STARTTLS\r\n", false, {}};
      }
      if (!starts_with_nocase(line, "a001 "))
        return {};  // untagged data before the answer
      if (!starts_with_nocase(line, "a001 OK"))
        return {{}, false, "STARTTLS refused: " + quoted(line)};
      state_ = State::Done;
      return {{}, true, {}};
    case StartTls::Pop3:
      if (!starts_with_nocase(line, "+OK"))
        return {
            {},
            false,
            std::string(state_ == State::Greeting ? "POP3 greeting refused: " : "STLS refused: ") +
                quoted(line)};
      if (state_ == State::Greeting) {
        state_ = State::Answer;
        return {"STLS\r\n", false, {}};
      }
      state_ = State::Done;
      return {{}, true, {}};
    case StartTls::None:
      break;
  }
  return {{}, true, {}};
}

}  // namespace ck::probe
