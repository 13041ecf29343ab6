#pragma once
// One capability of a store (see store/store.h): the CA itself: its certificate and (encrypted)
// key.

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class CaRecords {
 public:
  virtual ~CaRecords() = default;

  [[nodiscard]] virtual Result<std::optional<CaRecord>> find_ca() = 0;
  [[nodiscard]] virtual Status insert_ca(const CaRecord& ca) = 0;
  /// Replaces the CA key's PEM (the same key, encrypted anew) when it still
  /// is `old_pem`; false when another process changed it first. `encrypted`
  /// says whether `new_pem` is encrypted (a key stored in the clear before a
  /// passphrase was set is encrypted by `ca passphrase change`).
  [[nodiscard]] virtual Result<bool> replace_ca_key(std::string_view old_pem,
                                                    std::string_view new_pem, bool encrypted) = 0;
};

}  // namespace ck::store
