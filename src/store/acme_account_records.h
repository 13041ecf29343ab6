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
  /// Every account, by directory URL.
  [[nodiscard]] virtual Result<std::vector<AcmeAccountRecord>> list_acme_accounts() = 0;
  /// Like replace_ca_key, for the account of `directory`.
  [[nodiscard]] virtual Result<bool> replace_acme_account_key(std::string_view directory,
                                                              std::string_view old_pem,
                                                              std::string_view new_pem,
                                                              bool encrypted) = 0;
};

}  // namespace ck::store
