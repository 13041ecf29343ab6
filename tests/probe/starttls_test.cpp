#include <gtest/gtest.h>

#include "probe/starttls.h"

namespace ck::probe {
namespace {

TEST(StartTlsDialog, SmtpWaitsForWholeRepliesAndTheOffer) {
  StartTlsDialog d(StartTls::Smtp);
  auto s = d.feed("220 mx.example ESMTP");
  EXPECT_EQ(s.send, "");  // no line end yet
  s = d.feed("\r\n");
  EXPECT_EQ(s.send, "EHLO certkeeper.invalid\r\n");
  s = d.feed("250-mx.example\r\n250-STARTTLS\r\n");
  EXPECT_EQ(s.send, "");  // the reply is not complete
  s = d.feed("250 SIZE 1000\r\n");
  EXPECT_EQ(s.send, "STARTTLS\r\n");
  s = d.feed("220 go ahead\r\n");
  EXPECT_TRUE(s.done);
  EXPECT_EQ(s.error, "");
}

TEST(StartTlsDialog, SmtpWithoutStartTlsOrRefused) {
  StartTlsDialog no_offer(StartTls::Smtp);
  no_offer.feed("220 hi\r\n");
  EXPECT_EQ(no_offer.feed("250-mx\r\n250 SIZE 1\r\n").error, "the server does not offer STARTTLS");
  StartTlsDialog busy(StartTls::Smtp);
  EXPECT_EQ(busy.feed("554 go away\r\n").error, "SMTP greeting refused: '554 go away'");
  StartTlsDialog garbage(StartTls::Smtp);
  EXPECT_NE(garbage.feed("\x16\x03\x01 binary\n").error.find("not an SMTP reply"),
            std::string::npos);
}

TEST(StartTlsDialog, ImapAndPop3) {
  StartTlsDialog imap(StartTls::Imap);
  EXPECT_EQ(imap.feed("* OK IMAP4rev1 ready\r\n").send, "a001 STARTTLS\r\n");
  auto s = imap.feed("* CAPABILITY IMAP4rev1\r\na001 OK Begin TLS\r\n");
  EXPECT_TRUE(s.done);
  StartTlsDialog imap_no(StartTls::Imap);
  imap_no.feed("* OK ready\r\n");
  EXPECT_EQ(imap_no.feed("a001 BAD no\r\n").error, "STARTTLS refused: 'a001 BAD no'");

  StartTlsDialog pop(StartTls::Pop3);
  EXPECT_EQ(pop.feed("+OK POP3 ready\r\n").send, "STLS\r\n");
  EXPECT_TRUE(pop.feed("+OK begin\r\n").done);
  StartTlsDialog pop_no(StartTls::Pop3);
  pop_no.feed("+OK\r\n");
  EXPECT_EQ(pop_no.feed("-ERR no\r\n").error, "STLS refused: '-ERR no'");
}

TEST(StartTlsDialog, DataAfterTheAnswerAndEndlessTalkAreRefused) {
  StartTlsDialog pop(StartTls::Pop3);
  pop.feed("+OK\r\n");
  auto s = pop.feed("+OK begin\r\nsurprise");
  EXPECT_FALSE(s.done);
  EXPECT_EQ(s.error, "the server sent data after agreeing to STARTTLS");
  StartTlsDialog chatty(StartTls::Smtp);
  std::string error;
  for (int i = 0; i < 2000 && error.empty(); ++i)
    error = chatty.feed("220-still talking\r\n").error;
  EXPECT_EQ(error, "the server sent more than 16 KiB without agreeing to STARTTLS");
}

}  // namespace
}  // namespace ck::probe
