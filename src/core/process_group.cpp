#include "core/process_group.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace ck {
namespace {

using namespace std::chrono_literals;

// Whether a member of group `pgid` is still alive. Zombies do not count: an
// orphaned member's zombie waits for init to reap it, and some containers'
// init never does. Read from /proc; without it, any member counts.
bool group_alive(pid_t pgid) {
  if (::kill(-pgid, 0) != 0)
    return errno == EPERM;  // ESRCH: not even a zombie is left
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr)
    return true;
  bool alive = false;
  while (!alive) {
    const dirent* e = ::readdir(proc);
    if (e == nullptr)
      break;
    if (e->d_name[0] < '1' || e->d_name[0] > '9')
      continue;
    const std::string path = std::string("/proc/") + e->d_name + "/stat";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    char buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0)
      continue;
    buf[n] = '\0';
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses,
    // so the fields are read after the last ')'.
    const char* rest = std::strrchr(buf, ')');
    char state = 0;
    int ppid = 0;
    int pgrp = 0;
    if (rest != nullptr && std::sscanf(rest + 1, " %c %d %d", &state, &ppid, &pgrp) == 3)
      alive = pgrp == pgid && state != 'Z' && state != 'X';
  }
  ::closedir(proc);
  return alive;
}

// Interruptions while commands run (see InterruptScope).
constexpr std::array<int, 3> kCaught = {SIGINT, SIGTERM, SIGHUP};
volatile std::sig_atomic_t g_signal = 0;
int g_wake[2] = {-1, -1};  // made once, before the first handler is installed
std::mutex g_mutex;
int g_scopes = 0;
std::array<struct sigaction, kCaught.size()> g_before{};
std::array<bool, kCaught.size()> g_installed{};

extern "C" void on_interrupt(int sig) {
  const int saved = errno;
  if (g_signal == 0)
    g_signal = sig;
  const char byte = 1;
  if (g_wake[1] >= 0)
    (void)!::write(g_wake[1], &byte, 1);
  errno = saved;
}

void drain_wake_pipe() {
  char buf[64];
  while (g_wake[0] >= 0 && ::read(g_wake[0], buf, sizeof buf) > 0) {
  }
}

}  // namespace

int end_process_group(pid_t leader, std::chrono::milliseconds grace) {
  ::kill(-leader, SIGTERM);
  ::kill(-leader, SIGCONT);
  // The leader is reaped only at the end: while it is an unreaped zombie its
  // number cannot be reused, so the SIGKILL below cannot reach another group.
  const auto until = std::chrono::steady_clock::now() + grace;
  auto step = 1ms;
  while (group_alive(leader)) {
    if (std::chrono::steady_clock::now() >= until) {
      ::kill(-leader, SIGKILL);
      break;
    }
    std::this_thread::sleep_for(step);
    step = std::min(step * 2, std::chrono::milliseconds(20));
  }
  int status = 0;
  while (::waitpid(leader, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

InterruptScope::InterruptScope() {
  const std::lock_guard lock(g_mutex);
  if (g_scopes++ > 0)
    return;
  if (g_wake[0] < 0 && ::pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    g_wake[0] = g_wake[1] = -1;
    return;  // nothing could wake a waiting command: signals keep their effect
  }
  drain_wake_pipe();  // a signal that raced with the last scope's end
  g_signal = 0;
  for (std::size_t i = 0; i < kCaught.size(); ++i) {
    g_installed[i] = false;
    if (::sigaction(kCaught[i], nullptr, &g_before[i]) != 0 ||
        (!(g_before[i].sa_flags & SA_SIGINFO) && g_before[i].sa_handler == SIG_IGN))
      continue;
    struct sigaction catcher {};
    catcher.sa_handler = on_interrupt;
    sigemptyset(&catcher.sa_mask);
    catcher.sa_flags = SA_RESTART;
    g_installed[i] = ::sigaction(kCaught[i], &catcher, nullptr) == 0;
  }
}

InterruptScope::~InterruptScope() {
  int sig = 0;
  {
    const std::lock_guard lock(g_mutex);
    if (--g_scopes > 0)
      return;
    for (std::size_t i = 0; i < kCaught.size(); ++i) {
      if (g_installed[i])
        ::sigaction(kCaught[i], &g_before[i], nullptr);
      g_installed[i] = false;
    }
    drain_wake_pipe();
    sig = g_signal;
    g_signal = 0;
  }
  // Every command is ended: the signal now does what it would have done.
  if (sig != 0)
    ::raise(sig);
}

int InterruptScope::wake_fd() const {
  return g_wake[0];
}

int InterruptScope::signal() const {
  return g_signal;
}

void InterruptScope::reset_in_child() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (std::size_t i = 0; i < kCaught.size(); ++i) {
    if (g_installed[i])
      ::sigaction(kCaught[i], &dfl, nullptr);
  }
}

}  // namespace ck
