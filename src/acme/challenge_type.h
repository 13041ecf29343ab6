#pragma once
// The challenge types certkeeper answers (RFC 8555 §8.3 http-01, §8.4
// dns-01), as `acme issue --challenge` takes them and the stored settings
// keep them.

#include <string_view>

#include "core/error.h"

namespace ck::acme {

enum class ChallengeType { Http01, Dns01 };

/// "http-01" or "dns-01": the name in RFC 8555, on the command line and in
/// the stored settings.
[[nodiscard]] std::string_view to_string(ChallengeType type);

/// The type named `name`; InvalidArgument "unknown --challenge 'X' (use
/// http-01 or dns-01)" for any other.
[[nodiscard]] Result<ChallengeType> parse_challenge_type(std::string_view name);

}  // namespace ck::acme
