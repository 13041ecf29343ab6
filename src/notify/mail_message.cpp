#include "notify/mail_message.h"

#include <openssl/evp.h>

#include <array>
#include <chrono>

#include "core/join.h"
#include "net/http_client.h"

namespace ck::notify {
namespace {

bool is_ascii(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80)
      return false;
  }
  return true;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// A header value on one line: a template's line break must not start a new
// header (header injection) or end the headers.
std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s)
    out += (c == '\r' || c == '\n') ? ' ' : c;
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

// Length of the UTF-8 sequence that starts with `lead` (1 for a stray byte).
std::size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0)
    return 4;
  if (lead >= 0xE0)
    return 3;
  if (lead >= 0xC0)
    return 2;
  return 1;
}

// RFC 2047 "B" encoded words of at most 75 characters, never splitting a
// UTF-8 character, folded onto continuation lines.
std::string encode_header_text(std::string_view text) {
  if (is_ascii(text))
    return std::string(text);
  constexpr std::size_t kChunk = 45;  // 45 bytes → 60 base64 chars + 12 of framing
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = pos;
    while (end < text.size()) {
      const std::size_t len = utf8_length(static_cast<unsigned char>(text[end]));
      if (end + len - pos > kChunk)
        break;
      end += len;
    }
    if (end == pos)
      end = std::min(text.size(), pos + kChunk);
    if (!out.empty())
      out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(pos, end - pos)) + "?=";
    pos = end;
  }
  return out;
}

// Splits into lines on CRLF, CR or LF.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n') {
      lines.push_back(text.substr(start, i - start));
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
        ++i;
      start = i + 1;
    }
  }
  if (start < text.size())
    lines.push_back(text.substr(start));
  return lines;
}

}  // namespace

std::string address_of(std::string_view mailbox) {
  const auto open = mailbox.rfind('<');
  const auto close = mailbox.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open)
    return std::string(mailbox.substr(open + 1, close - open - 1));
  return one_line(mailbox);
}

std::string make_message_id(std::string_view random_hex, Seconds now, std::string_view from) {
  const std::string addr = address_of(from);
  const auto at = addr.rfind('@');
  const std::string domain = at == std::string::npos ? "certkeeper.invalid" : addr.substr(at + 1);
  return "<" + std::string(random_hex) + "." + std::to_string(now.time_since_epoch().count()) +
         "@" + domain + ">";
}

std::string rfc5322_date(Seconds t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(t - day);
  const std::chrono::weekday wd(day);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000", kDays[wd.c_encoding()],
                static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string format_mail(const Mail& mail, Seconds date, std::string_view message_id) {
  std::vector<std::string> to;
  for (const auto& addr : mail.to)
    to.push_back(one_line(addr));
  std::string out;
  out += "Date: " + rfc5322_date(date) + "\r\n";
  out += "Message-ID: " + std::string(message_id) + "\r\n";
  out += "From: " + encode_header_text(one_line(mail.from)) + "\r\n";
  out += "To: " + join(to, ", ") + "\r\n";
  out += "Subject: " + encode_header_text(one_line(mail.subject)) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  const auto lines = lines_of(mail.body);
  bool plain = is_ascii(mail.body);
  for (const auto line : lines)
    plain = plain && line.size() <= 998;
  if (plain) {
    out += "Content-Transfer-Encoding: 7bit\r\n\r\n";
    for (const auto line : lines) {
      out += line;
      out += "\r\n";
    }
    return out;
  }
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  std::string crlf_body;
  for (const auto line : lines) {
    crlf_body += line;
    crlf_body += "\r\n";
  }
  const std::string encoded = base64(crlf_body);
  for (std::size_t i = 0; i < encoded.size(); i += 76) {
    out += encoded.substr(i, 76);
    out += "\r\n";
  }
  return out;
}

std::string mailto_link(const Mail& mail) {
  std::vector<std::string> to;
  for (const auto& addr : mail.to) {
    // The addr-spec keeps its '@'; everything else outside unreserved is encoded.
    const auto at = addr.rfind('@');
    to.push_back(at == std::string::npos ? net::percent_encode(addr)
                                         : net::percent_encode(addr.substr(0, at)) + "@" +
                                               net::percent_encode(addr.substr(at + 1)));
  }
  std::string body;
  for (const auto line : lines_of(mail.body)) {
    body += line;
    body += "\r\n";
  }
  return "mailto:" + join(to, ",") + "?subject=" + net::percent_encode(one_line(mail.subject)) +
         "&body=" + net::percent_encode(body);
}

}  // namespace ck::notify
