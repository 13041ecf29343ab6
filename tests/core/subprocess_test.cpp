#include "core/subprocess.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace ck {
namespace {

using namespace std::chrono_literals;

TEST(Subprocess, InputGoesToStdinAndExitCodeComesBack) {
  auto r = run_process({"sh", "-c", "read line; echo \"got $line\"; exit 4"}, "secret\n", 10s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(r->output, "got secret\n");
}

TEST(Subprocess, ArgumentsAreNotSplitByAShell) {
  auto r = run_process({"printf", "%s|", "a b", "$HOME"}, "", 10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->output, "a b|$HOME|");
}

TEST(Subprocess, MissingCommandExits127AndSlowOneTimesOut) {
  auto missing = run_process({"/nonexistent/certkeeper-sms"}, "x", 10s);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->exit_code, 127);
  auto slow = run_process({"sleep", "5"}, "", 200ms);
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, Code::DeadlineExceeded);
}

// A deploy tool that prints its environment must not print the passphrase
// that opens the journal's backups.
TEST(Subprocess, SecretsInTheEnvironmentAreWithheld) {
  ::setenv("CERTKEEPER_CA_PASSPHRASE", "hunter2hunter2", 1);
  ::setenv("CERTKEEPER_SMTP_PASSWORD", "mailpass", 1);
  ::setenv("CERTKEEPER_TEST_VISIBLE", "yes", 1);
  auto r = run_process({"env"}, "", 10s);
  ::unsetenv("CERTKEEPER_CA_PASSPHRASE");
  ::unsetenv("CERTKEEPER_SMTP_PASSWORD");
  ::unsetenv("CERTKEEPER_TEST_VISIBLE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->output.find("hunter2"), std::string::npos);
  EXPECT_EQ(r->output.find("mailpass"), std::string::npos);
  EXPECT_NE(r->output.find("CERTKEEPER_TEST_VISIBLE=yes"), std::string::npos);
}

// The end of a long output is kept: it says why a command failed.
TEST(Subprocess, LongOutputKeepsItsEnd) {
  auto r = run_process({"sh", "-c", "seq 1 100000; echo the-last-line"}, "", 10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->output.size(), 64u * 1024u);
  EXPECT_TRUE(r->output.ends_with("100000\nthe-last-line\n"));
}

}  // namespace
}  // namespace ck
