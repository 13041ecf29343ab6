// Several event loops in one scan: every target is reported once, with its
// own outcome, one callback at a time; no more loops than connections.
#include <atomic>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "probe/scanner.h"
#include "silent_server.h"

namespace ck::probe {
namespace {

using namespace std::chrono_literals;

using SilentPort = test_support::SilentServer;

// A port on 127.0.0.1 nothing listens on: bound, then closed.
std::uint16_t closed_port() {
  SilentPort p;
  return p.port();
}

Target target(std::uint16_t port) {
  const std::string text = "127.0.0.1:" + std::to_string(port);
  return Target{text, "127.0.0.1", port, "", ""};
}

struct Seen {
  std::map<std::size_t, ProbeResult> by_index;
  std::size_t calls = 0;
  std::set<std::thread::id> threads;
  int most_at_once = 0;
};

Seen scan(const std::vector<Target>& targets, std::size_t threads, std::size_t concurrency) {
  ProbeOptions opts;
  opts.timeout = 300ms;
  opts.threads = threads;
  opts.concurrency = concurrency;
  const SystemClock clock;
  auto scanner = Scanner::create(opts, clock);
  EXPECT_TRUE(scanner) << scanner.error().message;
  Seen seen;
  std::atomic<int> inside{0};
  const Status ran = (*scanner)->run(targets, [&](std::size_t index, ProbeResult&& r) {
    const int now = ++inside;
    seen.most_at_once = std::max(seen.most_at_once, now);
    std::this_thread::sleep_for(1ms);  // widen the window two calls would overlap in
    ++seen.calls;
    seen.threads.insert(std::this_thread::get_id());
    seen.by_index.emplace(index, std::move(r));
    --inside;
  });
  EXPECT_TRUE(ran) << ran.error().message;
  return seen;
}

TEST(ScannerThreads, EveryTargetOnceWithItsOwnOutcomeOneCallbackAtATime) {
  const SilentPort silent[3];
  const std::uint16_t refused = closed_port();
  std::vector<Target> targets;
  // Three slow targets first: each loop's only connection is busy with one
  // for the timeout, so the refused ones after them are spread over loops.
  for (const auto& s : silent)
    targets.push_back(target(s.port()));
  for (int i = 0; i < 60; ++i)
    targets.push_back(target(refused));
  const Seen seen = scan(targets, 3, 3);
  EXPECT_EQ(seen.calls, targets.size());
  ASSERT_EQ(seen.by_index.size(), targets.size());
  EXPECT_EQ(seen.most_at_once, 1);
  EXPECT_GE(seen.threads.size(), 2u);
  for (const auto& [index, r] : seen.by_index) {
    EXPECT_EQ(r.target.text, targets[index].text);
    EXPECT_FALSE(r.ok);
    if (index < 3) {
      EXPECT_TRUE(r.error.starts_with("timed out after 300ms")) << index << ": " << r.error;
    } else {
      EXPECT_NE(r.error.find("connection refused"), std::string::npos) << index << ": " << r.error;
    }
  }
}

TEST(ScannerThreads, NoMoreLoopsThanConnections) {
  const std::uint16_t refused = closed_port();
  std::vector<Target> targets(40, target(refused));
  const Seen seen = scan(targets, 8, 2);
  EXPECT_EQ(seen.by_index.size(), targets.size());
  EXPECT_LE(seen.threads.size(), 2u);
}

TEST(ScannerThreads, WhatACallbackThrowsReachesTheCaller) {
  const std::uint16_t refused = closed_port();
  const std::vector<Target> targets(50, target(refused));
  ProbeOptions opts;
  opts.timeout = 300ms;
  opts.threads = 3;
  opts.concurrency = 6;
  const SystemClock clock;
  auto scanner = Scanner::create(opts, clock);
  ASSERT_TRUE(scanner) << scanner.error().message;
  std::size_t calls = 0;
  EXPECT_THROW(
      {
        const Status ran = (*scanner)->run(targets, [&](std::size_t, ProbeResult&&) {
          if (++calls == 5)
            throw std::runtime_error("the caller's own failure");
        });
        (void)ran;
      },
      std::runtime_error);
  EXPECT_LT(calls, targets.size());  // the loops stopped starting targets
}

TEST(ScannerThreads, AnEmptyListEndsAtOnce) {
  const Seen seen = scan({}, 4, 16);
  EXPECT_EQ(seen.calls, 0u);
}

}  // namespace
}  // namespace ck::probe
