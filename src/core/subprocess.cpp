#include "core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <thread>

#include "core/process_group.h"

namespace ck {
namespace {

constexpr std::size_t kOutputCap = 64 * 1024;
constexpr std::array<std::string_view, 5> kWithheld = {
    "CERTKEEPER_CA_PASSPHRASE", "CERTKEEPER_SMTP_PASSWORD", "CERTKEEPER_CONDUIT_TOKEN",
    "CERTKEEPER_WEBHOOK_TOKEN", "CERTKEEPER_PKCS11_PIN"};

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

enum class Ending { Exited, TimedOut, Interrupted, Unknown };

// Waits for the command (the group's leader) to exit, until `deadline` or an
// interruption; on Exited, `status` is its wait status.
Ending wait_leader(pid_t pid, std::chrono::steady_clock::time_point deadline,
                   const InterruptScope& interrupts, int& status) {
  auto step = std::chrono::milliseconds(1);
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return Ending::Exited;
    if (r < 0 && errno != EINTR)
      return Ending::Unknown;  // never read as a status of 0, "succeeded"
    if (interrupts.signal() != 0)
      return Ending::Interrupted;
    if (std::chrono::steady_clock::now() >= deadline)
      return Ending::TimedOut;
    std::this_thread::sleep_for(step);
    step = std::min(step * 2, std::chrono::milliseconds(20));
  }
}

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv, std::string_view input,
                                  std::chrono::milliseconds timeout,
                                  std::chrono::milliseconds grace,
                                  const std::vector<std::string>& extra_env) {
  if (argv.empty() || argv[0].empty()) {
    return fail(Code::InvalidArgument, "empty command");
  }
  int in_pipe[2] = {-1, -1};
  int out_pipe[2] = {-1, -1};
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return fail(Code::Internal, std::string("pipe: ") + std::strerror(errno));
  }
  // The child's environment, without the secrets certkeeper itself reads
  // from it: a deploy tool that logs its environment must not log them.
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view var(*e);
    const bool secret = std::any_of(kWithheld.begin(), kWithheld.end(), [&](std::string_view name) {
      return var.size() > name.size() && var.starts_with(name) && var[name.size()] == '=';
    });
    const bool replaced =
        std::any_of(extra_env.begin(), extra_env.end(), [&](const std::string& x) {
          const auto eq = x.find('=');
          return eq != std::string::npos && var.size() > eq &&
                 var.compare(0, eq + 1, x, 0, eq + 1) == 0;
        });
    if (!secret && !replaced)
      env.push_back(*e);
  }
  for (const auto& x : extra_env)
    env.push_back(const_cast<char*>(x.c_str()));
  env.push_back(nullptr);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  // The command leads a process group of its own, so that ending it on a
  // timeout or an interruption ends whatever it started too. Signals are
  // blocked around fork: the child must not run certkeeper's handlers.
  InterruptScope interrupts;
  // SIGCHLD ignored (inherited that way across exec) makes the kernel reap
  // the command itself, and how it ended could not be learned.
  struct sigaction chld {};
  if (::sigaction(SIGCHLD, nullptr, &chld) == 0 && chld.sa_handler == SIG_IGN)
    ::signal(SIGCHLD, SIG_DFL);
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    InterruptScope::reset_in_child();
    ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
    ::dup2(in_pipe[0], STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(out_pipe[1], STDERR_FILENO);
    ::execvpe(args[0], args.data(), env.data());
    const char msg[] = "certkeeper: cannot execute the command\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
  }
  const int fork_errno = errno;
  if (pid > 0)
    ::setpgid(pid, pid);  // also here: the group exists before either side goes on
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0) {
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]})
      ::close(fd);
    return fail(Code::Internal, std::string("fork: ") + std::strerror(fork_errno));
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  int to_child = in_pipe[1];
  int from_child = out_pipe[0];
  ::signal(SIGPIPE, SIG_IGN);  // a command that ignores its input must not kill us
  ::fcntl(to_child, F_SETFL, O_NONBLOCK);

  ProcessResult result;
  std::size_t written = 0;
  if (input.empty())
    close_fd(to_child);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Ending ending = Ending::Exited;
  const int wake = interrupts.wake_fd();
  while (from_child >= 0) {
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = {from_child, POLLIN, 0};
    fds[n++] = {wake, POLLIN, 0};  // poll skips it when it is -1
    const nfds_t to = n;
    if (to_child >= 0)
      fds[n++] = {to_child, POLLOUT, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ending = Ending::TimedOut;
      break;
    }
    if (::poll(fds, n, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      break;
    }
    if (interrupts.signal() != 0) {
      ending = Ending::Interrupted;
      break;
    }
    if (n > to && (fds[to].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t w = ::write(to_child, input.data() + written, input.size() - written);
      if (w > 0)
        written += static_cast<std::size_t>(w);
      if (w < 0 && errno != EAGAIN)
        written = input.size();
      if (written >= input.size())
        close_fd(to_child);
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      const ssize_t r = ::read(from_child, buf, sizeof buf);
      if (r <= 0) {
        close_fd(from_child);
      } else {
        // The end explains a failure (the last lines of a long Ansible run),
        // so the end is what is kept.
        result.output.append(buf, static_cast<std::size_t>(r));
        if (result.output.size() > 2 * kOutputCap)
          result.output.erase(0, result.output.size() - kOutputCap);
      }
    }
  }
  close_fd(to_child);
  close_fd(from_child);
  if (result.output.size() > kOutputCap)
    result.output.erase(0, result.output.size() - kOutputCap);
  // Its output closed, the command may still be running (it closed its
  // output itself): waiting for it keeps to the same deadline.
  int status = 0;
  if (ending == Ending::Exited)
    ending = wait_leader(pid, deadline, interrupts, status);
  if (ending != Ending::Exited)
    status = end_process_group(pid, grace);
  if (ending == Ending::TimedOut) {
    return fail(Code::DeadlineExceeded, "'" + argv[0] + "' did not finish within " +
                                            std::to_string(timeout.count() / 1000) +
                                            " s; it was ended with the processes it started");
  }
  if (ending == Ending::Unknown) {
    return fail(Code::Internal, "cannot learn how '" + argv[0] +
                                    "' ended (its exit status was lost); taken as failed");
  }
  if (ending == Ending::Interrupted) {
    return fail(Code::Unavailable, "'" + argv[0] + "' was stopped: certkeeper received signal " +
                                       std::to_string(interrupts.signal()));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

namespace {

bool blank(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

std::string last_line(std::string_view output) {
  std::size_t end = output.size();
  while (end > 0) {
    // The line ending at `end`: after the last line break before it.
    const auto brk = output.find_last_of("\r\n", end - 1);
    const std::size_t start = brk == std::string_view::npos ? 0 : brk + 1;
    std::string_view line = output.substr(start, end - start);
    while (!line.empty() && blank(line.back()))
      line.remove_suffix(1);
    if (std::any_of(line.begin(), line.end(), [](char c) { return !blank(c); }))
      return std::string(line);
    if (brk == std::string_view::npos)
      break;
    end = brk;
  }
  return {};
}

std::string exit_message(std::string_view name, int exit_code, std::string_view line) {
  std::string out = std::string(name) + " exited with " + std::to_string(exit_code);
  if (!line.empty())
    out += ": " + std::string(line);
  return out;
}

Status run_command(const std::vector<std::string>& argv, const CommandOptions& options,
                   std::string* output) {
  const std::string name =
      !options.name.empty() ? options.name : "'" + (argv.empty() ? "" : argv[0]) + "'";
  auto result = run_process(argv, options.input, options.timeout, kTerminateGrace, options.env);
  if (!result) {
    if (!options.name_run_errors)
      return fail(std::move(result.error()));
    return fail(result.error().code, name + ": " + result.error().message);
  }
  std::string kept =
      options.filter ? options.filter(std::move(result->output)) : std::move(result->output);
  const std::string line = options.quote_output ? last_line(kept) : std::string();
  if (output != nullptr)
    *output = std::move(kept);
  if (result->exit_code != 0)
    return fail(Code::Unavailable, exit_message(name, result->exit_code, line));
  return {};
}

}  // namespace ck
