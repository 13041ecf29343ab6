#pragma once
// /metrics: the snapshot in Prometheus' text format (docs/serve.md lists
// every series). Rendering reads only the snapshot: it never touches the
// store or the network, so a scrape costs the same whatever the CA's size
// beyond the alertable set.

#include <string>

#include "core/clock.h"
#include "serve/snapshot.h"

namespace ck::serve {

/// The exposition text for `snap` as seen at `now` (ages count from it):
/// the timed part (ages) followed by the fixed part.
[[nodiscard]] std::string render_metrics(const Snapshot& snap, Seconds now);
/// What depends on `now`: the snapshot's age, each user's oldest hold's age.
[[nodiscard]] std::string render_timed_metrics(const Snapshot& snap, Seconds now);
/// Everything else; the same for as long as the snapshot is the newest, so
/// /metrics renders it once per snapshot.
[[nodiscard]] std::string render_fixed_metrics(const Snapshot& snap);

}  // namespace ck::serve
