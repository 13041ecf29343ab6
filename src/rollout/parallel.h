#pragma once
// A stage's targets run `parallel` at a time (docs/rollout.md, "Stages").

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/error.h"

namespace ck::rollout {

/// Runs `fn(item)` on every item, `parallel` at a time (at least one), on
/// this thread and up to parallel - 1 others. The first failure stops new
/// items from starting (running ones finish) and is what it returns.
template <class Item, class Fn>
[[nodiscard]] Status for_each_parallel(const std::vector<Item>& items, int parallel, Fn fn) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::optional<Error> first;
  const auto work = [&] {
    while (!stop) {
      const auto i = next++;
      if (i >= items.size())
        return;
      auto st = fn(items[i]);
      if (!st) {
        std::lock_guard lock(mu);
        if (!first)
          first = st.error();
        stop = true;
      }
    }
  };
  const auto threads =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(parallel, 1)), items.size());
  {
    std::vector<std::jthread> pool;
    for (std::size_t i = 1; i < threads; ++i)
      pool.emplace_back(work);
    work();
  }
  if (first)
    return fail(*first);
  return {};
}

}  // namespace ck::rollout
