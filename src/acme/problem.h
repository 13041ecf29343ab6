#pragma once
// ACME problem documents (RFC 8555 §6.7, RFC 7807) turned into one readable
// error: the type without its URN prefix, the detail, and one line per
// subproblem naming its identifier.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ck::acme {

/// The problem's short type ("badNonce" for urn:ietf:params:acme:error:badNonce).
[[nodiscard]] std::string problem_type(const nlohmann::json& problem);

/// "`what`: TYPE: DETAIL" with "; IDENTIFIER: TYPE: DETAIL" per subproblem.
[[nodiscard]] std::string describe_problem(const nlohmann::json& problem);

/// An Error for an HTTP answer that is not what ACME promised: a problem
/// document when the body is one, else the status and the start of the body.
[[nodiscard]] Error problem_error(std::string_view what, long status, std::string_view body);

}  // namespace ck::acme
