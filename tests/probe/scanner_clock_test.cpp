// The scanner's per-target deadline runs on the injected clock's steady
// time: under a clock that leaps, a server that never answers times out at
// once, not after the real timeout.
#include <gtest/gtest.h>

#include "probe/scanner.h"
#include "silent_server.h"

namespace ck::probe {
namespace {

using namespace std::chrono_literals;

// Each reading of the steady time is an hour after the last one.
class LeapingClock final : public Clock {
 public:
  [[nodiscard]] std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const override {
    steady_ += 1h;
    return steady_;
  }

 private:
  mutable std::chrono::steady_clock::time_point steady_{};
};

using test_support::SilentServer;

TEST(ScannerClock, TheTimeoutRunsOnTheInjectedSteadyClock) {
  SilentServer server;
  LeapingClock clock;
  ProbeOptions opts;
  opts.timeout = 30s;
  auto scanner = Scanner::create(opts, clock);
  ASSERT_TRUE(scanner) << scanner.error().message;
  const std::vector<Target> targets{
      Target{"127.0.0.1:" + std::to_string(server.port()), "127.0.0.1", server.port(), "", ""}};
  std::vector<ProbeResult> results;
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE((*scanner)->run(
      targets, [&](std::size_t, ProbeResult&& r) { results.push_back(std::move(r)); }));
  const auto real = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_TRUE(results[0].error.starts_with("timed out after 30s")) << results[0].error;
  EXPECT_LT(real, 10s);                           // the real timeout is 30 s
  EXPECT_GE(results[0].elapsed_ms, 3'600'000.0);  // measured on the injected clock too
}

}  // namespace
}  // namespace ck::probe
