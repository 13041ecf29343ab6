#pragma once

#include <algorithm>
#include <deque>
#include <vector>

#include "core/random.h"

namespace ck::testing {

/// Returns scripted byte strings first (one per fill call), then real
/// randomness; lets a test force a serial collision.
class ScriptedRandom final : public RandomSource {
 public:
  void push(std::vector<std::uint8_t> bytes) { script_.push_back(std::move(bytes)); }
  [[nodiscard]] Status fill(std::span<std::uint8_t> out) override {
    if (script_.empty()) {
      return real_.fill(out);
    }
    auto bytes = std::move(script_.front());
    script_.pop_front();
    std::fill(out.begin(), out.end(), std::uint8_t{0});
    std::copy_n(bytes.begin(), std::min(bytes.size(), out.size()), out.begin());
    return {};
  }

 private:
  std::deque<std::vector<std::uint8_t>> script_;
  SystemRandom real_;
};

}  // namespace ck::testing
