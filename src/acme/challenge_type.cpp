#include "acme/challenge_type.h"

#include <string>

namespace ck::acme {

std::string_view to_string(ChallengeType type) {
  switch (type) {
    case ChallengeType::Http01:
      return "http-01";
    case ChallengeType::Dns01:
      return "dns-01";
  }
  return "http-01";
}

Result<ChallengeType> parse_challenge_type(std::string_view name) {
  for (const auto type : {ChallengeType::Http01, ChallengeType::Dns01}) {
    if (name == to_string(type))
      return type;
  }
  return fail(Code::InvalidArgument,
              "unknown --challenge '" + std::string(name) + "' (use http-01 or dns-01)");
}

}  // namespace ck::acme
