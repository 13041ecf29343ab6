#pragma once
// `crl check`: which CRL each mTLS server enforces, observed with canaries
// (ca/canary.h): the valid one and the newest CRL's revoked one on every
// endpoint, in one round; then the older CRLs' revoked ones, newest first,
// each only on the endpoints not yet decided.

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "ca/authority.h"
#include "core/clock.h"
#include "core/error.h"
#include "enforce/classify.h"
#include "probe/scanner.h"
#include "probe/target.h"

namespace ck::enforce {

struct EndpointReport {
  probe::Target target;
  EndpointCrl crl;
  std::string tls_version;  // of the valid canary's handshake
};

/// Runs the checks. `targets` without an https:// path get "/": the verdict
/// of servers like nginx comes in HTTP (unless `tls_only`, for servers that
/// refuse in the handshake). `base`: timeout, concurrency, trust store.
/// `progress`, when set, hears each round ("valid canary", "CRL #12's canary").
[[nodiscard]] Result<std::vector<EndpointReport>> check_crl_enforcement(
    std::span<const probe::Target> targets, const ca::CheckCanaries& canaries,
    const probe::ProbeOptions& base, bool tls_only, const Clock& clock,
    const std::function<void(const std::string&)>& progress = {});

}  // namespace ck::enforce
