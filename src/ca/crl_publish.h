#pragma once
// What a CRL's [crl] publish_command and `crl status` learn about a built
// CRL: the command's variables, and whether the written file outgrew the
// size servers are known to accept.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "ca/authority.h"

namespace ck::ca {

/// The variables of [crl] publish_command (docs/configuration.md):
/// {{crl_file}} ("" when nothing was written), {{crl_number}}, {{entries}},
/// {{tickets}} (the new entries' tickets, space-separated) and {{bug_lines}}
/// (one "Bug: TICKET" line each, for a commit message's trailer).
[[nodiscard]] std::map<std::string, std::string> publish_variables(const CrlBuilt& built);

/// A warning for `crl status` when the CRL file at `file` has more than
/// `max_size` bytes ([crl] max_size); none when it is within it or cannot be
/// read (status reports a missing file elsewhere).
[[nodiscard]] std::optional<std::string> crl_size_warning(const std::filesystem::path& file,
                                                          std::int64_t max_size);

}  // namespace ck::ca
