#include "observe/log_format.h"

#include <gtest/gtest.h>

#include <fstream>

#include "fakes/temp_dir.h"
#include "observe/log_follower.h"

namespace ck::observe {
namespace {

TEST(LogFormat, DefaultFormatReadsSerialAndTime) {
  auto f = LogFormat::compile(kDefaultLogFormat);
  ASSERT_TRUE(f);
  auto m = f->match("2026-11-23T09:00:00+01:00 7E51CF SUCCESS 127.0.0.1 \"GET / HTTP/1.1\" 200\n");
  ASSERT_TRUE(m.matched && m.sighting);
  EXPECT_EQ(m.sighting->serial_hex, "7E51CF");
  EXPECT_EQ(m.sighting->when->time_since_epoch().count(), 1795420800);  // 08:00:00Z
}

TEST(LogFormat, SiteFormatWithTimeLocalAndQuotes) {
  auto f = LogFormat::compile(
      "$remote_addr - \"$remote_user\" [$time_local] \"$request\" $status "
      "serial=${ssl_client_serial} verify=$ssl_client_verify");
  ASSERT_TRUE(f) << f.error().message;
  auto ok = f->match(
      "10.0.0.1 - \"-\" [23/Nov/2026:09:00:00 +0000] \"GET /a b HTTP/1.1\" 200 serial=0A1B "
      "verify=SUCCESS");
  ASSERT_TRUE(ok.sighting);
  EXPECT_EQ(ok.sighting->serial_hex, "0A1B");
  EXPECT_EQ(ok.sighting->when->time_since_epoch().count(), 1795424400);
  auto refused = f->match(
      "10.0.0.1 - \"-\" [23/Nov/2026:09:00:00 +0000] \"GET / HTTP/1.1\" 400 serial=0A1B "
      "verify=FAILED:certificate revoked");
  EXPECT_TRUE(refused.matched);
  EXPECT_FALSE(refused.sighting);
  auto none = f->match(
      "10.0.0.1 - \"-\" [23/Nov/2026:09:00:00 +0000] \"GET / HTTP/1.1\" 400 serial=- verify=NONE");
  EXPECT_TRUE(none.matched);
  EXPECT_FALSE(none.sighting);
  EXPECT_FALSE(f->match("garbage").matched);
}

// A line is in the format only when each variable nginx writes in a known way
// has that shape; variables certkeeper does not know take anything.
TEST(LogFormat, EachVariableHasItsShape) {
  struct Case {
    std::string variable;
    std::vector<std::string> fits;
    std::vector<std::string> does_not;
  };
  const std::vector<Case> cases = {
      {"time_iso8601",
       {"2026-11-23T08:00:00+00:00", "2026-11-23T09:00:00-05:30"},
       {"127.0.0.1", "2026-11-23T08:00:00", "2026-11-23 08:00:00+00:00",
        "23/Nov/2026:08:00:00 +0000", "2026-13-23T08:00:00+00:00", "-"}},
      {"time_local",
       {"23/Nov/2026:08:00:00 +0000", "01/Dec/2026:21:26:02 -0700"},
       {"2026-11-23T08:00:00+00:00", "23/Foo/2026:08:00:00 +0000", "23/Nov/2026:08:00:00",
        "23/Nov/2026:08:00:00 +00:00", "-"}},
      {"ssl_client_serial",
       {"7E51CF", "0a1b", "-", std::string(40, 'F')},
       {"", "7E51CG", "127.0.0.1", std::string(41, 'F'), "--", "0x7E"}},
      {"ssl_client_verify",
       {"SUCCESS", "NONE", "-", "FAILED:certificate revoked"},
       {"FAILED:", "success", "OK", "127.0.0.1", ""}},
      {"status", {"200", "499", "000"}, {"20", "2000", "-", "OK", ""}},
      {"body_bytes_sent", {"0", "612"}, {"-", "", "6k", "1.5"}},
      {"request_length", {"78"}, {"-"}},
      {"request_time", {"0.000", "12.345"}, {"0", ".5", "1.", "-", "1.2.3"}},
      {"msec", {"1795420800.123"}, {"1795420800"}},
      {"remote_addr",
       {"127.0.0.1", "::1", "2001:db8::1", "unix:"},
       {"-", "localhost", "[23/Nov/2026:08:00:00", "revoked 127.0.0.1", "300.0.0.1"}},
      {"upstream_addr", {"", "10.0.0.2:80", "-", "x] y"}, {}},
  };
  for (const auto& c : cases) {
    // The serial itself, or a format with a serial that is absent ('-').
    const bool serial = c.variable == "ssl_client_serial";
    const bool verify = c.variable == "ssl_client_verify";
    auto f = LogFormat::compile(serial   ? "[$ssl_client_serial] $ssl_client_verify"
                                : verify ? "[$ssl_client_verify] $ssl_client_serial"
                                         : "[$" + c.variable +
                                               "] $ssl_client_serial $ssl_client_verify");
    ASSERT_TRUE(f) << c.variable;
    const std::string rest = serial ? " NONE" : verify ? " -" : " - NONE";
    for (const auto& v : c.fits) {
      EXPECT_TRUE(f->match("[" + v + "]" + rest).matched)
          << "$" << c.variable << " = '" << v << "' should fit";
    }
    for (const auto& v : c.does_not) {
      EXPECT_FALSE(f->match("[" + v + "]" + rest).matched)
          << "$" << c.variable << " = '" << v << "' should not fit";
    }
  }
}

// A value the client writes takes anything between its quotes but a quote
// (nginx writes one as \x22).
TEST(LogFormat, QuotedClientValue) {
  auto f = LogFormat::compile("\"$http_user_agent\" $ssl_client_serial $ssl_client_verify");
  ASSERT_TRUE(f) << f.error().message;
  for (const std::string v : {"", "curl/7.88.1", "-", "Mozilla/5.0 (X11) x] y", "a\\x22b"}) {
    EXPECT_TRUE(f->match("\"" + v + "\" - NONE").matched) << v;
  }
  EXPECT_FALSE(f->match("\"a\"b\" - NONE").matched);
}

// A client-written variable outside quotes could carry spaces and make up
// the fields after it: a client without a certificate (serial '-', NONE)
// naming alice's serial and SUCCESS in its basic-auth user name.
TEST(LogFormat, ClientWrittenFieldsMustBeQuoted) {
  for (const auto* variable :
       {"remote_user", "request", "request_uri", "http_user_agent", "http_x_forwarded_for",
        "cookie_session", "arg_q", "uri", "ssl_client_s_dn", "ssl_server_name", "host"}) {
    const std::string v = std::string("$") + variable;
    for (const auto& format :
         {"$time_iso8601 " + v + " $ssl_client_serial $ssl_client_verify $request_time",
          "$ssl_client_serial $ssl_client_verify [" + v + "]",
          "$ssl_client_serial $ssl_client_verify \"" + v + " $status\"",
          "$ssl_client_serial $ssl_client_verify \"" + v}) {
      auto f = LogFormat::compile(format);
      ASSERT_FALSE(f) << format;
      EXPECT_NE(f.error().message.find(v + " is written by the client"), std::string::npos)
          << f.error().message;
    }
  }
  auto quoted = LogFormat::compile(
      "$time_iso8601 \"$remote_user\" $ssl_client_serial $ssl_client_verify \"$request_uri\"");
  ASSERT_TRUE(quoted) << quoted.error().message;
  const auto m = quoted->match("2026-11-23T09:00:00+01:00 \"x 7E51CF SUCCESS\" - NONE \"/path\"");
  EXPECT_TRUE(m.matched);
  EXPECT_FALSE(m.sighting);
  const auto ok = quoted->match("2026-11-23T09:00:00+01:00 \"-\" 7E51CF SUCCESS \"/a \\x22b\"");
  ASSERT_TRUE(ok.sighting);
  EXPECT_EQ(ok.sighting->serial_hex, "7E51CF");
}

// nginx's default `combined` log read with certkeeper's format: every line
// used to "match" as a line without a certificate, so a wrong log confirmed
// nobody without a word.
TEST(LogFormat, CombinedLinesAreNotInTheDefaultFormat) {
  auto f = LogFormat::compile(kDefaultLogFormat);
  ASSERT_TRUE(f);
  EXPECT_FALSE(
      f->match("127.0.0.1 - - [23/Nov/2026:08:00:00 +0000] \"GET / HTTP/1.1\" 200 612 \"-\" "
               "\"curl/7.88.1\"")
          .matched);
  EXPECT_FALSE(f->match("127.0.0.1 - alice [23/Nov/2026:08:00:00 +0000] \"GET /a b HTTP/1.1\" "
                        "404 0 \"https://example.org/ x\" \"Mozilla/5.0 (X11)\"")
                   .matched);
}

// A value holding the literal that follows it ($ssl_client_verify's reason
// has spaces) is still read: the next occurrence is tried.
TEST(LogFormat, ValueHoldingTheNextLiteral) {
  auto f = LogFormat::compile(kDefaultLogFormat);
  ASSERT_TRUE(f);
  auto refused = f->match(
      "2026-11-23T09:00:00+01:00 7E51CF FAILED:certificate revoked 127.0.0.1 \"GET / HTTP/1.1\" "
      "400");
  EXPECT_TRUE(refused.matched);
  EXPECT_FALSE(refused.sighting);
  auto none = f->match("2026-11-23T09:00:00+01:00 - NONE ::1 \"GET / HTTP/1.1\" 400");
  EXPECT_TRUE(none.matched);
  EXPECT_FALSE(none.sighting);
}

// Many variables of any shape over a long line of spaces: the search must
// stay polynomial (a failed (segment, position) is not tried again).
TEST(LogFormat, LongLineOfManyCandidatesEnds) {
  auto f =
      LogFormat::compile("$a $b $c $d $e $f $g $h $ssl_client_serial $ssl_client_verify $status");
  ASSERT_TRUE(f);
  std::string line;
  for (int i = 0; i < 2000; ++i)
    line += "x ";
  line += "ZZ";
  EXPECT_FALSE(f->match(line).matched);
  EXPECT_TRUE(f->match(line + " 7E SUCCESS 200").matched);
}

TEST(LogFormat, FormatsThatCannotWork) {
  EXPECT_FALSE(LogFormat::compile("$remote_addr $status"));  // no serial
  EXPECT_FALSE(
      LogFormat::compile("$ssl_client_serial$status $ssl_client_verify"));  // nothing between
  EXPECT_FALSE(LogFormat::compile("${ssl_client_serial"));                  // unclosed
  // No $ssl_client_verify: nginx logs the serial of a certificate it refused.
  auto unverified = LogFormat::compile("$remote_addr $ssl_client_serial $status");
  ASSERT_FALSE(unverified);
  EXPECT_NE(unverified.error().message.find("no $ssl_client_verify"), std::string::npos);
}

TEST(LogFollower, ReadsAppendsAcrossRotationAndTruncation) {
  testing::TempDir dir;
  const auto path = dir.path() / "access.log";
  std::ofstream(path) << "one\ntw";
  LogFollower f(path);
  EXPECT_EQ(*f.poll(), std::vector<std::string>{"one"});
  std::ofstream(path, std::ios::app) << "o\nthree\n";
  EXPECT_EQ(*f.poll(), (std::vector<std::string>{"two", "three"}));
  std::filesystem::rename(path, dir.path() / "access.log.1");
  std::ofstream(dir.path() / "access.log.1", std::ios::app) << "four\n";
  std::ofstream(path) << "five\n";
  EXPECT_EQ(*f.poll(), (std::vector<std::string>{"four", "five"}));
  std::ofstream(path, std::ios::trunc) << "six\n";
  EXPECT_EQ(*f.poll(), std::vector<std::string>{"six"});
  EXPECT_TRUE(f.poll()->empty());
}

// A budget ends a poll after the line that reaches it; the next poll goes on
// from there. A line longer than kMaxLogLine is skipped and counted, and the
// follower's memory does not grow with it.
TEST(LogFollower, BoundedBatchesAndOverlongLines) {
  testing::TempDir dir;
  const auto path = dir.path() / "access.log";
  {
    std::ofstream out(path);
    out << "one\ntwo\n"
        << std::string(kMaxLogLine + 1, 'x') << "\nthree\n"
        << std::string(3 * kMaxLogLine, 'y') << "\nfour\n"
        << std::string(kMaxLogLine, 'z') << "\n"
        << std::string(2 * kMaxLogLine, 'w');
  }
  LogFollower f(path);
  EXPECT_EQ(*f.poll(4), (std::vector<std::string>{"one"}));
  EXPECT_TRUE(f.behind());
  EXPECT_EQ(*f.poll(4), (std::vector<std::string>{"two"}));
  EXPECT_EQ(*f.poll(4), (std::vector<std::string>{"three"}));
  EXPECT_EQ(f.too_long(), 1U);
  EXPECT_EQ(*f.poll(4), (std::vector<std::string>{"four"}));
  EXPECT_EQ(f.too_long(), 2U);
  const auto last = *f.poll(4);
  ASSERT_EQ(last.size(), 1U);
  EXPECT_EQ(last[0], std::string(kMaxLogLine, 'z'));  // exactly the limit is read
  EXPECT_TRUE(f.poll(4)->empty());
  EXPECT_FALSE(f.behind());
  EXPECT_EQ(f.take_partial(), "");
  EXPECT_EQ(f.too_long(), 3U);
}

}  // namespace
}  // namespace ck::observe
