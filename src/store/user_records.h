#pragma once
// One capability of a store (see store/store.h): people the CA issues client certificates to.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class UserRecords {
 public:
  virtual ~UserRecords() = default;

  [[nodiscard]] virtual Result<std::optional<UserRecord>> find_user(std::string_view name) = 0;
  /// Fails with AlreadyExists when the name is taken.
  [[nodiscard]] virtual Result<std::int64_t> insert_user(const UserProfile& profile,
                                                         Seconds created_at) = 0;
  [[nodiscard]] virtual Status update_user(const UserProfile& profile) = 0;
  /// Disables the user as of `at` (their current certificate was revoked), or
  /// enables them again (nullopt).
  [[nodiscard]] virtual Status set_user_disabled(std::string_view name,
                                                 std::optional<Seconds> at) = 0;
  [[nodiscard]] virtual Result<std::vector<UserRecord>> list_users() = 0;
  /// Up to `limit` users whose names sort after `after`, by name.
  [[nodiscard]] virtual Result<std::vector<UserRecord>> users_after(std::string_view after,
                                                                    std::size_t limit) = 0;
};

}  // namespace ck::store
