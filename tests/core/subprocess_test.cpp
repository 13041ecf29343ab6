#include "core/subprocess.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>

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
  ::setenv("CERTKEEPER_PKCS11_PIN", "pin-4711", 1);
  ::setenv("CERTKEEPER_TEST_VISIBLE", "yes", 1);
  auto r = run_process({"env"}, "", 10s);
  ::unsetenv("CERTKEEPER_CA_PASSPHRASE");
  ::unsetenv("CERTKEEPER_SMTP_PASSWORD");
  ::unsetenv("CERTKEEPER_PKCS11_PIN");
  ::unsetenv("CERTKEEPER_TEST_VISIBLE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->output.find("hunter2"), std::string::npos);
  EXPECT_EQ(r->output.find("mailpass"), std::string::npos);
  EXPECT_EQ(r->output.find("pin-4711"), std::string::npos);
  EXPECT_NE(r->output.find("CERTKEEPER_TEST_VISIBLE=yes"), std::string::npos);
}

TEST(Subprocess, ExtraEnvironmentIsAddedAndReplacesTheInheritedValue) {
  ::setenv("CERTKEEPER_TEST_REPLACED", "inherited", 1);
  ::setenv("CERTKEEPER_TEST_REPLACED_NOT", "kept", 1);
  auto r = run_process({"env"}, "", 10s, kTerminateGrace,
                       {"CERTKEEPER_TEST_REPLACED=given", "CERTKEEPER_TEST_NEW=a=b"});
  ::unsetenv("CERTKEEPER_TEST_REPLACED");
  ::unsetenv("CERTKEEPER_TEST_REPLACED_NOT");
  ASSERT_TRUE(r);
  EXPECT_NE(r->output.find("\nCERTKEEPER_TEST_REPLACED=given\n"), std::string::npos) << r->output;
  EXPECT_EQ(r->output.find("CERTKEEPER_TEST_REPLACED=inherited"), std::string::npos);
  // A name that only starts like a given one is not replaced.
  EXPECT_NE(r->output.find("CERTKEEPER_TEST_REPLACED_NOT=kept"), std::string::npos);
  EXPECT_NE(r->output.find("CERTKEEPER_TEST_NEW=a=b"), std::string::npos);
}

// Live processes whose command line holds `marker` (zombies have none).
int processes_with(const std::string& marker) {
  int count = 0;
  DIR* proc = ::opendir("/proc");
  while (const dirent* e = proc ? ::readdir(proc) : nullptr) {
    const int fd = ::open(("/proc/" + std::string(e->d_name) + "/cmdline").c_str(), O_RDONLY);
    if (fd < 0)
      continue;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n > 0 && std::string(buf, static_cast<std::size_t>(n)).find(marker) != std::string::npos)
      ++count;
  }
  if (proc)
    ::closedir(proc);
  return count;
}

// Processes left with `marker` once those signalled have had time to die: a
// process sent SIGKILL cannot run on, but on a loaded machine its exit (and
// its /proc entry) can trail the return of the call that killed it.
int survivors(const std::string& marker) {
  int left = processes_with(marker);
  for (int i = 0; i < 50 && left > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    left = processes_with(marker);
  }
  return left;
}

// A command whose children outlive it when only it is killed, as an Ansible
// play's workers do: one child ends on SIGTERM, the other ignores it.
std::vector<std::string> script_with_children(const std::string& marker) {
  return {"sh", "-c",
          "sh -c 'sleep 300; : " + marker + "' & sh -c \"trap '' TERM; sleep 300; : " + marker +
              "\" & wait"};
}

std::string unique_marker(const char* what) {
  return std::string("ck-subprocess-test-") + what + "-" + std::to_string(::getpid());
}

// Started with SIGCHLD ignored (a parent can pass that on across exec), a
// failing command once read as exit 0: the kernel reaped it, waitpid failed,
// and the status stayed 0.
TEST(Subprocess, AFailureIsSeenWithSigchldIgnored) {
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGCHLD, nullptr, &before), 0);
  ::signal(SIGCHLD, SIG_IGN);
  auto r = run_process({"sh", "-c", "exit 3"}, "", 10s, 1s);
  ::sigaction(SIGCHLD, &before, nullptr);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
}

TEST(Subprocess, TimeoutEndsEverythingTheCommandStarted) {
  const auto marker = unique_marker("timeout");
  const auto start = std::chrono::steady_clock::now();
  auto r = run_process(script_with_children(marker), "", 500ms, 300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::DeadlineExceeded);
  EXPECT_EQ(survivors(marker), 0);
  EXPECT_LT(took, 5s);  // the timeout, the grace, and no more
}

// A group that ends on SIGTERM is not kept waiting for the grace period.
TEST(Subprocess, AGroupThatEndsOnTermIsNotKeptForTheGrace) {
  const auto marker = unique_marker("term");
  const auto start = std::chrono::steady_clock::now();
  auto r =
      run_process({"sh", "-c", "sh -c 'sleep 300; : " + marker + "' & sleep 300"}, "", 300ms, 20s);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(survivors(marker), 0);
  EXPECT_LT(took, 10s);
}

// A command that closes its output but goes on running still times out
// (it used to be waited for without a limit).
TEST(Subprocess, ACommandThatClosedItsOutputStillTimesOut) {
  const auto start = std::chrono::steady_clock::now();
  auto r = run_process({"sh", "-c", "exec >&- 2>&-; sleep 300"}, "", 300ms, 1s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::DeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

// SIGTERM to certkeeper while a command runs: the command's group is ended
// first, then certkeeper goes the way SIGTERM would have taken it.
TEST(SubprocessDeathTest, ASignalEndsTheRunningCommandThenCertkeeper) {
  const auto marker = unique_marker("signal");
  EXPECT_EXIT(
      {
        std::thread([] {
          std::this_thread::sleep_for(500ms);
          ::kill(::getpid(), SIGTERM);
        }).detach();
        (void)run_process(script_with_children(marker), "", 60s, 300ms);
        std::_Exit(0);  // not reached: the signal is raised again once the group is gone
      },
      ::testing::KilledBySignal(SIGTERM), "");
  EXPECT_EQ(survivors(marker), 0);
}

// A signal that was ignored when the command started (nohup) stays ignored.
TEST(SubprocessDeathTest, AnIgnoredSignalStaysIgnored) {
  EXPECT_EXIT(
      {
        ::signal(SIGHUP, SIG_IGN);
        std::thread([] {
          std::this_thread::sleep_for(300ms);
          ::kill(::getpid(), SIGHUP);
        }).detach();
        auto r = run_process({"sh", "-c", "sleep 1; echo done"}, "", 10s, 300ms);
        std::_Exit(r && r->output == "done\n" ? 7 : 1);
      },
      ::testing::ExitedWithCode(7), "");
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
