#pragma once
// RFC 5280 §5.3.1 CRLReason codes.

#include <string>
#include <string_view>

#include "core/error.h"

namespace ck::ca {

enum class Reason : int {
  Unspecified = 0,
  KeyCompromise = 1,
  CaCompromise = 2,
  AffiliationChanged = 3,
  Superseded = 4,
  CessationOfOperation = 5,
  CertificateHold = 6,
  PrivilegeWithdrawn = 9,
};

[[nodiscard]] Result<Reason> parse_reason(std::string_view name);
/// The RFC 5280 name of a code as the store keeps it; "unknown" for a code
/// certkeeper does not use.
[[nodiscard]] std::string_view reason_name(int code);
[[nodiscard]] std::string_view reason_name(Reason reason);

}  // namespace ck::ca
