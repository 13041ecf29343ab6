#pragma once
// The CSV of `user import`: a header row naming the fields of `user create`
// (user, cn, email, org, ou, locality, state, country, phone), then one row
// per user. RFC 4180 quoting; errors name the source and the line.

#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace ck::ca {

/// Every field of every row is checked (validate_profile: UTF-8, lengths, the
/// subject as it will be encoded); the first bad row fails naming its line.
/// `lines`, when given, receives the line each profile starts on.
[[nodiscard]] Result<std::vector<store::UserProfile>> parse_user_csv(
    std::string_view text, std::string_view source, std::vector<std::size_t>* lines = nullptr);

}  // namespace ck::ca
