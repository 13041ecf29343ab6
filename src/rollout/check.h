#pragma once
// apply --check: each target's check command (or, for files, whether each
// file would be created, changed or left), what each endpoint serves now,
// and what the pins would become. Nothing is written, no hook runs, nothing
// is journaled.

#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "probe/scanner.h"
#include "rollout/alignment.h"
#include "rollout/bundle.h"
#include "rollout/deployer.h"
#include "rollout/plan.h"
#include "rollout/report.h"
#include "servercert/inventory.h"

namespace ck::rollout {

/// The check of `stage` ("" = every stage) of a plan whose certificate
/// (with its key) is `bundle`; `deployer` runs the check commands.
[[nodiscard]] Result<Report> check_plan(const Plan& plan, const PlanCertificate& cert,
                                        const CertBundle& bundle, const std::string& stage,
                                        const probe::ProbeOptions& probe_options,
                                        const Deployer& deployer, servercert::Inventory& inventory,
                                        const Clock& clock);

}  // namespace ck::rollout
