#pragma once
// Pinned fingerprints (monit's `certmd5`, an HPKP-era config, a client's
// allow-list): files that name the served certificate by its digest and
// must name the new one once every endpoint serves it.

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ossl.h"
#include "rollout/plan.h"

namespace ck::rollout {

struct PinEdit {
  std::filesystem::path path;
  std::string after;         // the file's text with the fingerprint replaced
  std::size_t replaced = 0;  // occurrences of the old fingerprint
  bool holds_new = false;    // already names the new certificate
};

/// Every file the plan's pins match (globs relative to the plan's folder),
/// with the old certificate's fingerprint replaced by the new one's in the
/// pin's algorithm and format. Hex digits match in either case, and only as
/// a whole fingerprint (not inside a longer run of hex).
[[nodiscard]] Result<std::vector<PinEdit>> plan_pin_edits(const Plan& plan, const X509& old_cert,
                                                          const X509& new_cert);

/// The files the plan's pins match, sorted, each once.
[[nodiscard]] std::vector<std::filesystem::path> pin_files(const Plan& plan, const Pin& pin);

}  // namespace ck::rollout
