#pragma once
// What a run tells the person watching (lines as each step starts and ends)
// and what it notes for the report (hooks, pins, cleanup). Stage threads
// share one: each method is safe to call concurrently.

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace ck::rollout {

class Progress {
 public:
  using Sink = std::function<void(const std::string&)>;
  /// `sink` may be empty (nobody watching); it is never called concurrently.
  explicit Progress(Sink sink) : sink_(std::move(sink)) {}

  void say(const std::string& line) {
    if (sink_) {
      std::lock_guard lock(mu_);
      sink_(line);
    }
  }
  void note(const std::string& line) {
    std::lock_guard lock(mu_);
    notes_.push_back(line);
  }
  /// A note that asks for a look even when the run succeeded (a pin file
  /// left as it was, a key file cleanup could not remove): `--quiet` shows it.
  void concern(const std::string& line) {
    std::lock_guard lock(mu_);
    notes_.push_back(line);
    concerns_.push_back(line);
  }
  [[nodiscard]] std::vector<std::string> notes() const {
    std::lock_guard lock(mu_);
    return notes_;
  }
  [[nodiscard]] std::vector<std::string> concerns() const {
    std::lock_guard lock(mu_);
    return concerns_;
  }

 private:
  Sink sink_;
  mutable std::mutex mu_;
  std::vector<std::string> notes_;
  std::vector<std::string> concerns_;
};

}  // namespace ck::rollout
