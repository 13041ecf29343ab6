#include "ca/reason.h"

#include <array>
#include <utility>

namespace ck::ca {
namespace {
constexpr std::array<std::pair<std::string_view, Reason>, 8> kReasons{{
    {"unspecified", Reason::Unspecified},
    {"keyCompromise", Reason::KeyCompromise},
    {"cACompromise", Reason::CaCompromise},
    {"affiliationChanged", Reason::AffiliationChanged},
    {"superseded", Reason::Superseded},
    {"cessationOfOperation", Reason::CessationOfOperation},
    {"certificateHold", Reason::CertificateHold},
    {"privilegeWithdrawn", Reason::PrivilegeWithdrawn},
}};
}  // namespace

Result<Reason> parse_reason(std::string_view name) {
  for (const auto& [n, r] : kReasons) {
    if (n == name) {
      return r;
    }
  }
  return fail(Code::InvalidArgument,
              "unknown reason '" + std::string(name) +
                  "' (use unspecified, keyCompromise, affiliationChanged, superseded, "
                  "cessationOfOperation, certificateHold or privilegeWithdrawn)");
}

std::string_view reason_name(int code) {
  for (const auto& [n, r] : kReasons) {
    if (static_cast<int>(r) == code) {
      return n;
    }
  }
  return "unknown";
}

std::string_view reason_name(Reason reason) {
  return reason_name(static_cast<int>(reason));
}

}  // namespace ck::ca
