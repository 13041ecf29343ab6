#pragma once
// One capability of a store (see store/store.h): canary certificates: revoked on purpose so `crl
// check` can see a CRL enforced (migration 0012).

#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class CanaryRecords {
 public:
  virtual ~CanaryRecords() = default;

  [[nodiscard]] virtual Status insert_canary(const CanaryRecord& canary) = 0;
  /// Streams the canaries the next CRL lists (every one not yet past its
  /// final CRL), as CRL entries (reason 0: unspecified).
  [[nodiscard]] virtual Status for_each_canary_entry(
      const std::function<void(const CrlEntry&)>& fn) = 0;
  /// The serials of every canary ever recorded: what the CRL builder leaves
  /// out when it compares two CRLs' users' entries.
  [[nodiscard]] virtual Result<std::vector<std::string>> canary_serials() = 0;
  /// Every canary recorded, oldest first, without DER or key (`cert list --all`).
  [[nodiscard]] virtual Result<std::vector<CanaryRecord>> list_canaries() = 0;
  /// The canaries of the newest `limit` CRLs (purpose Crl), newest first.
  [[nodiscard]] virtual Result<std::vector<CanaryRecord>> recent_crl_canaries(
      std::size_t limit) = 0;
};

}  // namespace ck::store
