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
      "$remote_addr - $remote_user [$time_local] \"$request\" $status serial=${ssl_client_serial} "
      "verify=$ssl_client_verify");
  ASSERT_TRUE(f) << f.error().message;
  auto ok = f->match(
      "10.0.0.1 - - [23/Nov/2026:09:00:00 +0000] \"GET /a b HTTP/1.1\" 200 serial=0A1B "
      "verify=SUCCESS");
  ASSERT_TRUE(ok.sighting);
  EXPECT_EQ(ok.sighting->serial_hex, "0A1B");
  EXPECT_EQ(ok.sighting->when->time_since_epoch().count(), 1795424400);
  auto refused = f->match(
      "10.0.0.1 - - [23/Nov/2026:09:00:00 +0000] \"GET / HTTP/1.1\" 400 serial=0A1B "
      "verify=FAILED:certificate revoked");
  EXPECT_TRUE(refused.matched);
  EXPECT_FALSE(refused.sighting);
  auto none = f->match(
      "10.0.0.1 - - [23/Nov/2026:09:00:00 +0000] \"GET / HTTP/1.1\" 400 serial=- verify=NONE");
  EXPECT_TRUE(none.matched);
  EXPECT_FALSE(none.sighting);
  EXPECT_FALSE(f->match("garbage").matched);
}

TEST(LogFormat, FormatsThatCannotWork) {
  EXPECT_FALSE(LogFormat::compile("$remote_addr $status"));       // no serial
  EXPECT_FALSE(LogFormat::compile("$ssl_client_serial$status"));  // nothing between
  EXPECT_FALSE(LogFormat::compile("${ssl_client_serial"));        // unclosed
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

}  // namespace
}  // namespace ck::observe
