#include "core/subprocess.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ck
