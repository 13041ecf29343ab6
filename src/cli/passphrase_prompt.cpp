#include "cli/passphrase_prompt.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

namespace ck::cli {
namespace {

// What a signal handler needs to give the terminal its echo back before the
// default action ends the run: a no-echo terminal left behind is the classic
// getpass() bug.
int g_tty = -1;
struct termios g_saved {};
struct termios g_quiet {};
constexpr int kEndingSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr int kStoppingSignals[] = {SIGTSTP, SIGTTIN, SIGTTOU};

extern "C" void restore_and_reraise(int sig) {
  if (g_tty >= 0)
    ::tcsetattr(g_tty, TCSAFLUSH, &g_saved);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Ctrl-Z: the shell gets the terminal as it was; back in the foreground,
// echo is off again before the rest of the passphrase is typed.
extern "C" void restore_stop_resume(int /*sig*/) {
  const int saved_errno = errno;
  if (g_tty >= 0)
    ::tcsetattr(g_tty, TCSAFLUSH, &g_saved);
  std::raise(SIGSTOP);
  if (g_tty >= 0)
    ::tcsetattr(g_tty, TCSAFLUSH, &g_quiet);
  errno = saved_errno;
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n <= 0)
      return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// A passphrase longer than this is not typed by a person.
constexpr std::size_t kMaxPassphrase = 4096;

}  // namespace

bool can_ask_passphrase() {
  if (::isatty(STDIN_FILENO) == 0)
    return false;
  const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ::close(fd);
  return true;
}

Result<Secret> ask_passphrase(std::string_view prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return fail(Code::FailedPrecondition, "no terminal to ask for a passphrase on");
  struct termios saved {};
  const bool is_tty = ::tcgetattr(fd, &saved) == 0;
  struct sigaction previous[std::size(kEndingSignals) + std::size(kStoppingSignals)] = {};
  if (is_tty) {
    g_tty = fd;
    g_saved = saved;
    g_quiet = saved;
    g_quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    g_quiet.c_lflag |= ECHONL;  // the newline the person types is still shown
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    std::size_t n = 0;
    sa.sa_handler = restore_and_reraise;
    for (const int sig : kEndingSignals)
      ::sigaction(sig, &sa, &previous[n++]);
    sa.sa_handler = restore_stop_resume;
    sa.sa_flags = SA_RESTART;
    for (const int sig : kStoppingSignals)
      ::sigaction(sig, &sa, &previous[n++]);
    ::tcsetattr(fd, TCSAFLUSH, &g_quiet);
  }
  write_all(fd, prompt);
  std::string line;
  // On the heap from the start and never grown: no copy of what is typed is
  // left behind in a freed buffer (Secret wipes this one).
  line.reserve(kMaxPassphrase + 1);
  bool ended = false;
  bool too_long = false;
  for (;;) {
    char c = 0;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ended = true;
      break;
    }
    if (c == '\n' || c == '\r')
      break;
    if (line.size() < kMaxPassphrase)
      line.push_back(c);
    else
      too_long = true;
  }
  if (is_tty) {
    ::tcsetattr(fd, TCSAFLUSH, &saved);
    std::size_t n = 0;
    for (const int sig : kEndingSignals)
      ::sigaction(sig, &previous[n++], nullptr);
    for (const int sig : kStoppingSignals)
      ::sigaction(sig, &previous[n++], nullptr);
    g_tty = -1;
    if (ended)
      write_all(fd, "\n");
  }
  ::close(fd);
  Secret secret(std::move(line));
  if (ended && secret.empty())
    return fail(Code::InvalidArgument, "no passphrase given (end of input)");
  if (too_long)
    return fail(Code::InvalidArgument, "the passphrase is longer than 4096 characters");
  return secret;
}

Result<Secret> ask_new_passphrase(std::string_view what) {
  CK_ASSIGN(auto first, ask_passphrase("New passphrase for " + std::string(what) + ": "));
  if (first.empty()) {
    return fail(Code::InvalidArgument,
                "empty passphrase: type one, or pass --no-passphrase to keep the key unencrypted");
  }
  CK_ASSIGN(auto second, ask_passphrase("Type it again: "));
  if (first.reveal() != second.reveal())
    return fail(Code::InvalidArgument, "the two passphrases differ: nothing was changed");
  return first;
}

}  // namespace ck::cli
