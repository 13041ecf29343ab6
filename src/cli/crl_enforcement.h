#pragma once
// `crl check`'s run and report, shared by `crl check` and by `crl build`
// with `[crl] check_endpoints`.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/runtime.h"
#include "enforce/crl_check.h"

namespace ck::cli {

struct EnforcementRun {
  std::int64_t last_crl = 0;
  std::vector<std::int64_t> tried;  // the revoked canaries' CRL numbers, newest first
  std::vector<enforce::EndpointReport> reports;
  std::size_t on_newest = 0;
  [[nodiscard]] bool all_newest() const { return on_newest == reports.size(); }
};

/// Issues the run's canary and checks every target.
[[nodiscard]] Result<EnforcementRun> observe_enforcement(Runtime& rt,
                                                         const std::vector<probe::Target>& targets,
                                                         const probe::ProbeOptions& options,
                                                         std::size_t canaries, bool tls_only);

/// "newest (#12)", "stale by 2 (#10)", "accepts revoked certificates", ...
[[nodiscard]] std::string enforcement_text(const enforce::EndpointCrl& c);

/// `last_crl`, `canaries_tried`, `endpoints`, `on_newest`, `total`.
[[nodiscard]] nlohmann::json enforcement_json(const EnforcementRun& run);

}  // namespace ck::cli
