#pragma once
// /metrics: the snapshot in Prometheus' text format (docs/serve.md lists
// every series). Rendering reads only the snapshot: it never touches the
// store or the network, so a scrape costs the same whatever the CA's size
// beyond the alertable set.

#include <string>

#include "core/clock.h"
#include "serve/snapshot.h"

namespace ck::serve {

/// The exposition text for `snap` as seen at `now` (ages count from it).
[[nodiscard]] std::string render_metrics(const Snapshot& snap, Seconds now);

}  // namespace ck::serve
