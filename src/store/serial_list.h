#pragma once
// The serials of a published CRL as the store keeps them for the next
// build's self-check: sorted, each a length byte and the serial's magnitude.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace ck::store {

/// Appends one serial in the packed form.
void append_serial(std::string& packed, std::string_view serial);
/// Sorts serials (magnitude bytes) in byte order, quickly when they arrive
/// in random order (a PostgreSQL scan); a sorted list is only checked.
void sort_serials(std::vector<std::string_view>& serials);
/// Sorts `serials` (if needed) and packs them.
[[nodiscard]] std::string pack_serials(std::vector<std::string_view> serials);
/// Views into `packed`, in order; malformed input is a Storage error.
[[nodiscard]] Result<std::vector<std::string_view>> unpack_serials(std::string_view packed);

}  // namespace ck::store
