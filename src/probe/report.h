#pragma once
// Probe results as machine-readable text: one JSON object per target (the
// fields listed in docs/probe.md) and Prometheus text exposition for
// node_exporter's textfile collector.

#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "probe/result.h"

namespace ck::probe {

/// Fields in a fixed, documented order; times RFC 3339 UTC; fingerprints
/// lower-case hex without separators; certificate fields null on failure.
[[nodiscard]] nlohmann::ordered_json to_json(const ProbeResult& r);

/// certkeeper_probe_* gauges, one sample per target, labelled with target and sni.
[[nodiscard]] std::string to_prometheus(std::span<const ProbeResult> results);

}  // namespace ck::probe
