#pragma once
// A command and everything it starts, as one unit: each external command runs
// as the leader of its own process group, and ending it means ending the
// group. Killing the leader alone left an Ansible play's workers (or any
// script's background jobs) running while the operator rolled back.

#include <sys/types.h>

#include <chrono>

namespace ck {

/// Time a command's group has between SIGTERM and SIGKILL: enough for a
/// deploy tool to stop its workers and remove its temporary files.
inline constexpr std::chrono::milliseconds kTerminateGrace{5000};

/// Ends the process group led by `leader` (a child of ours): SIGTERM, and
/// SIGCONT so that a stopped member receives it, then SIGKILL to whatever
/// is still alive after `grace`. Returns as soon as no member is alive
/// (zombies of orphans, left for init to reap, do not count). Reaps the
/// leader and returns its wait status.
[[nodiscard]] int end_process_group(pid_t leader, std::chrono::milliseconds grace);

/// While one of these exists (one per running command), SIGINT, SIGTERM and
/// SIGHUP do not end certkeeper at once. A command in its own group no
/// longer gets the terminal's Ctrl-C or hangup, so certkeeper catches them
/// instead: the signal makes wake_fd() readable, each running command's
/// group is ended, and when the last scope closes the signal is raised again
/// under certkeeper's own disposition (by default it ends certkeeper as it
/// would have). A signal that was ignored when the first scope opened
/// (nohup, a background job of a script) stays ignored.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  /// Readable once a signal came (-1 when no pipe could be made).
  [[nodiscard]] int wake_fd() const;
  /// The signal that came, 0 while none did.
  [[nodiscard]] int signal() const;

  /// For a forked child before exec: the caught signals back to their
  /// default, so the command starts as it would without certkeeper.
  /// Async-signal-safe.
  static void reset_in_child();
};

}  // namespace ck
