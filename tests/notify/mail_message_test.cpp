#include "notify/mail_message.h"

#include <gtest/gtest.h>

namespace ck::notify {
namespace {

const Seconds kT{std::chrono::seconds(1'800'000'000)};  // Fri, 15 Jan 2027 08:00:00 UTC

std::string header(const std::string& msg, const std::string& name) {
  const auto start = msg.find("\r\n" + name + ": ");
  if (start == std::string::npos)
    return {};
  const auto from = start + name.size() + 4;
  return msg.substr(from, msg.find("\r\n", from) - from);
}

TEST(MailMessage, Rfc5322Date) {
  EXPECT_EQ(rfc5322_date(kT), "Fri, 15 Jan 2027 08:00:00 +0000");
  EXPECT_EQ(rfc5322_date(Seconds{}), "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(MailMessage, AsciiMessageHasEveryHeaderAndCrlfLines) {
  const Mail m{
      "certkeeper <ck@example.org>", {"alice@example.org"}, "Expiring", "line 1\nline 2\n"};
  const auto msg = format_mail(m, kT, "<id.1@example.org>");
  EXPECT_EQ(msg.substr(0, 6), "Date: ");
  EXPECT_EQ(header(msg, "Message-ID"), "<id.1@example.org>");
  EXPECT_EQ(header(msg, "From"), "certkeeper <ck@example.org>");
  EXPECT_EQ(header(msg, "To"), "alice@example.org");
  EXPECT_EQ(header(msg, "Subject"), "Expiring");
  EXPECT_EQ(header(msg, "MIME-Version"), "1.0");
  EXPECT_EQ(header(msg, "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(header(msg, "Content-Transfer-Encoding"), "7bit");
  EXPECT_NE(msg.find("\r\n\r\nline 1\r\nline 2\r\n"), std::string::npos);
  // No bare LF anywhere.
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] == '\n') {
      ASSERT_TRUE(i > 0 && msg[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

TEST(MailMessage, NonAsciiSubjectIsEncodedWordsAndBodyBase64) {
  const std::string subject = "Zertifikat läuft ab – bitte erneuern, Jürgen, sehr bald schon ✓";
  const Mail m{"ck@example.org", {"j@example.org"}, subject, "Grüße\n"};
  const auto msg = format_mail(m, kT, "<x@example.org>");
  const auto subj_start = msg.find("Subject: ") + 9;
  const auto subj_end = msg.find("\r\nMIME-Version");
  const std::string encoded = msg.substr(subj_start, subj_end - subj_start);
  EXPECT_EQ(encoded.substr(0, 10), "=?UTF-8?B?");
  EXPECT_NE(encoded.find("\r\n =?UTF-8?B?"), std::string::npos) << "long subject folds";
  std::size_t pos = 0;
  while ((pos = encoded.find("=?UTF-8?B?", pos)) != std::string::npos) {
    const auto end = encoded.find("?=", pos + 10);
    EXPECT_LE(end + 2 - pos, 75U) << "encoded word too long";
    pos = end;
  }
  EXPECT_EQ(header(msg, "Content-Transfer-Encoding"), "base64");
  EXPECT_NE(msg.find("\r\n\r\nR3LDvMOfZQ0K\r\n"), std::string::npos);  // "Grüße\r\n"
}

TEST(MailMessage, LineBreaksInHeadersCannotInjectHeaders) {
  const Mail m{"ck@example.org",
               {"a@example.org\r\nBcc: evil@example.org"},
               "Hi\r\nBcc: evil@example.org",
               "x"};
  const auto msg = format_mail(m, kT, "<x@example.org>");
  EXPECT_EQ(msg.find("\r\nBcc:"), std::string::npos);
  EXPECT_EQ(header(msg, "Subject"), "Hi  Bcc: evil@example.org");
}

TEST(MailMessage, AddressAndMessageId) {
  EXPECT_EQ(address_of("certkeeper <ck@example.org>"), "ck@example.org");
  EXPECT_EQ(address_of("ck@example.org"), "ck@example.org");
  EXPECT_EQ(make_message_id("AB12", kT, "certkeeper <ck@example.org>"),
            "<AB12.1800000000@example.org>");
  EXPECT_EQ(make_message_id("AB12", kT, "nodomain"), "<AB12.1800000000@certkeeper.invalid>");
}

TEST(MailMessage, MailtoLinkIsRfc6068) {
  const Mail m{"", {"alice@example.org", "o'neil+x@example.org"}, "Hi & bye?", "a=b\nc d\n"};
  EXPECT_EQ(mailto_link(m),
            "mailto:alice@example.org,o%27neil%2Bx@example.org?subject=Hi%20%26%20bye%3F"
            "&body=a%3Db%0D%0Ac%20d%0D%0A");
}

}  // namespace
}  // namespace ck::notify
