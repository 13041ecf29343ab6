// run_command: the one way certkeeper runs a configured command and reports
// its failure ("<name> exited with N: <last line>").
#include <gtest/gtest.h>

#include "core/subprocess.h"

namespace ck {
namespace {

using namespace std::chrono_literals;

TEST(LastLine, IsTheLastLineWithText) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"\n\n", ""},
      {"one line", "one line"},
      {"first\nsecond\n", "second"},
      {"first\nsecond\n\n\n", "second"},
      {"first\nsecond\n  \n\t\n", "second"},  // blank lines are skipped
      {"error: trailing blanks  \n", "error: trailing blanks"},
      {"  indented\n", "  indented"},
      // CRLF output (a Windows tool, a script through `sed 's/$/\r/'`).
      {"first\r\nsecond\r\n", "second"},
      {"first\r\nsecond\r\n\r\n", "second"},
      // A progress line rewritten in place: what the terminal shows last.
      {"10%\r50%\r100%\n", "100%"},
      {"fetching 10%\rfetching 100%\r\nerror: disk full\n", "error: disk full"},
      {"done\r", "done"},
      {"progress 99%\r\r", "progress 99%"},
  };
  for (const auto& [output, want] : cases)
    EXPECT_EQ(last_line(output), want) << "output: " << testing::PrintToString(output);
}

TEST(ExitMessage, NamesTheCommandTheCodeAndTheLine) {
  EXPECT_EQ(exit_message("'scp'", 1, "connection refused"),
            "'scp' exited with 1: connection refused");
  EXPECT_EQ(exit_message("reload '/bin/r'", 3, ""), "reload '/bin/r' exited with 3");
}

TEST(RunCommand, SuccessKeepsTheOutput) {
  std::string output = "stale";
  CommandOptions opts;
  opts.timeout = 10s;
  ASSERT_TRUE(run_command({"sh", "-c", "echo hello; echo world >&2"}, opts, &output));
  EXPECT_EQ(output, "hello\nworld\n");
}

TEST(RunCommand, ANonZeroExitQuotesTheLastLineOfTheOutput) {
  CommandOptions opts;
  opts.timeout = 10s;
  auto st = run_command(
      {"sh", "-c", "echo starting; printf 'pushing 50%%\\rremote rejected\\r\\n'; exit 2"}, opts);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::Unavailable);
  EXPECT_EQ(st.error().message, "'sh' exited with 2: remote rejected");
}

TEST(RunCommand, TheNameAndNoLineWhenTheOutputIsEmpty) {
  CommandOptions opts;
  opts.timeout = 10s;
  opts.name = "hook before 'false'";
  auto st = run_command({"false"}, opts);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "hook before 'false' exited with 1");
}

// A command handed a secret might echo it: its output is not quoted.
TEST(RunCommand, OutputIsNotQuotedWhenAskedNotTo) {
  CommandOptions opts;
  opts.timeout = 10s;
  opts.input = "s3cret\n";
  opts.quote_output = false;
  opts.name = "password delivery 'sh'";
  auto st = run_command({"sh", "-c", "cat; exit 3"}, opts);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "password delivery 'sh' exited with 3");
}

// The filter (masking) runs before the output is kept or quoted.
TEST(RunCommand, TheFilteredOutputIsKeptAndQuoted) {
  CommandOptions opts;
  opts.timeout = 10s;
  opts.filter = [](std::string s) {
    for (auto pos = s.find("KEY"); pos != std::string::npos; pos = s.find("KEY"))
      s.replace(pos, 3, "[secret]");
    return s;
  };
  std::string output;
  auto st = run_command({"sh", "-c", "echo KEY; echo failed with KEY; exit 1"}, opts, &output);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "'sh' exited with 1: failed with [secret]");
  EXPECT_EQ(output, "[secret]\nfailed with [secret]\n");
}

TEST(RunCommand, RunErrorsAreNamedOnlyWhenAsked) {
  CommandOptions opts;
  opts.timeout = 200ms;
  auto plain = run_command({"sleep", "5"}, opts);
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().code, Code::DeadlineExceeded);
  EXPECT_TRUE(plain.error().message.starts_with("'sleep' did not finish within"))
      << plain.error().message;
  opts.name = "reload 'sleep'";
  opts.name_run_errors = true;
  std::string output = "untouched";
  auto named = run_command({"sleep", "5"}, opts, &output);
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().code, Code::DeadlineExceeded);
  EXPECT_TRUE(named.error().message.starts_with("reload 'sleep': 'sleep' did not finish within"))
      << named.error().message;
  EXPECT_EQ(output, "untouched");
}

}  // namespace
}  // namespace ck
