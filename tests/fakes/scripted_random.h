#pragma once

#include <algorithm>
#include <deque>
#include <mutex>
#include <vector>

#include "core/random.h"

namespace ck::testing {

/// Returns scripted byte strings first (one per fill call), then real
/// randomness; lets a test force a serial collision.
class ScriptedRandom final : public RandomSource {
 public:
  void push(std::vector<std::uint8_t> bytes) {
    std::lock_guard lock(mutex_);
    script_.push_back(std::move(bytes));
  }
  // Issuance signs on several threads at once, like the SystemRandom it fakes.
  [[nodiscard]] Status fill(std::span<std::uint8_t> out) override {
    std::unique_lock lock(mutex_);
    if (script_.empty()) {
      lock.unlock();
      return real_.fill(out);
    }
    auto bytes = std::move(script_.front());
    script_.pop_front();
    std::fill(out.begin(), out.end(), std::uint8_t{0});
    std::copy_n(bytes.begin(), std::min(bytes.size(), out.size()), out.begin());
    return {};
  }

 private:
  std::mutex mutex_;
  std::deque<std::vector<std::uint8_t>> script_;
  SystemRandom real_;
};

}  // namespace ck::testing
