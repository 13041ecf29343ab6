#pragma once

#include <chrono>

#include "core/clock.h"

namespace ck::testing {

/// A clock tests move by hand; it never moves on its own.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Seconds start = Seconds(std::chrono::seconds(1'800'000'000))) : now_(start) {}
  [[nodiscard]] std::chrono::system_clock::time_point now() const override { return now_; }
  [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::time_point(now_.time_since_epoch());
  }
  void set(Seconds t) { now_ = t; }
  void advance(std::chrono::seconds d) { now_ += d; }

 private:
  Seconds now_;
};

}  // namespace ck::testing
