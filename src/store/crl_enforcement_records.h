#pragma once
// One capability of a store (see store/store.h): cRL enforcement as `crl check` last saw it, per
// endpoint (migration 0013).

#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class CrlEnforcementRecords {
 public:
  virtual ~CrlEnforcementRecords() = default;

  /// Replaces the endpoint's observation.
  [[nodiscard]] virtual Status record_crl_enforcement(const CrlEnforcementRecord& seen) = 0;
  /// Every endpoint's last observation, by endpoint.
  [[nodiscard]] virtual Result<std::vector<CrlEnforcementRecord>> list_crl_enforcement() = 0;
};

}  // namespace ck::store
