#pragma once
// One capability of a store (see store/store.h): aCME accounts, one per directory URL.

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class AcmeAccountRecords {
 public:
  virtual ~AcmeAccountRecords() = default;

  [[nodiscard]] virtual Result<std::optional<AcmeAccountRecord>> find_acme_account(
      std::string_view directory) = 0;
  /// Keeps an existing account for the directory (two first runs at once).
  [[nodiscard]] virtual Status insert_acme_account(const AcmeAccountRecord& account) = 0;
};

}  // namespace ck::store
