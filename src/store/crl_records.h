#pragma once
// One capability of a store (see store/store.h): the CRLs built: numbers, times, publish outcomes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class CrlRecords {
 public:
  virtual ~CrlRecords() = default;

  [[nodiscard]] virtual Result<std::optional<CrlRecord>> last_crl() = 0;
  /// The last CRL number handed out (also counts numbers taken over on import).
  [[nodiscard]] virtual Result<std::int64_t> last_crl_number() = 0;
  /// Records a CRL (number, times, serials, intended file, publish state when
  /// already known); its release_seq is the store's current one, whatever
  /// `crl` says.
  [[nodiscard]] virtual Status insert_crl(const CrlRecord& crl) = 0;
  /// Records the outcome of publishing CRL `number`.
  [[nodiscard]] virtual Status set_crl_publish(std::int64_t number, PublishState state, Seconds at,
                                               std::string_view error) = 0;
  /// Continues a numbering taken over from another CA: the next CRL gets a
  /// number above `last` (never lowers the counter).
  [[nodiscard]] virtual Status raise_crl_number(std::int64_t last) = 0;
};

}  // namespace ck::store
