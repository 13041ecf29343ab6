#pragma once
// One capability of a store (see store/store.h): per-user leases (ca/user_lease.h decides when one
// may be taken over).

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class UserLeaseRecords {
 public:
  virtual ~UserLeaseRecords() = default;

  [[nodiscard]] virtual Result<std::optional<UserLeaseRecord>> find_user_lease(
      std::string_view user) = 0;
  /// Records a lease; false (nothing changed) when the user has one already.
  [[nodiscard]] virtual Result<bool> insert_user_lease(const UserLeaseRecord& lease) = 0;
  /// Replaces the user's lease if it still carries `token` (a holder extending
  /// its own, or a stale one taken over); false (nothing changed) otherwise.
  [[nodiscard]] virtual Result<bool> replace_user_lease(const UserLeaseRecord& lease,
                                                        std::string_view token) = 0;
  /// Removes the user's lease if it carries `token`.
  [[nodiscard]] virtual Status delete_user_lease(std::string_view user, std::string_view token) = 0;
};

}  // namespace ck::store
