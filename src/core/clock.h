#pragma once
// Time is a parameter: every piece of logic that depends on "now" takes a Clock
// (services) or a time_point (pure decision functions).

#include <chrono>
#include <functional>
#include <thread>

namespace ck {

using Seconds = std::chrono::sys_seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  /// Wall-clock time, for certificate validity, CRL times and display.
  [[nodiscard]] virtual std::chrono::system_clock::time_point now() const = 0;
  /// Monotonic time, for timeouts and latency.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point steady_now() const = 0;

  /// now() truncated to whole seconds, the resolution of X.509 times.
  [[nodiscard]] Seconds now_seconds() const {
    return std::chrono::floor<std::chrono::seconds>(now());
  }
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
};

/// Waits. Code that waits takes one next to its Clock, so that a test's
/// sleep moves the fake clock instead of sleeping (a wait whose deadline
/// comes from a fake clock would otherwise never time out).
using Sleep = std::function<void(std::chrono::milliseconds)>;

/// The real wait.
inline void real_sleep(std::chrono::milliseconds d) {
  std::this_thread::sleep_for(d);
}

}  // namespace ck
