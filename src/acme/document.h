#pragma once
// The JSON an ACME server answers with, parsed with a bound on nesting. ACME
// objects nest a few levels (a problem's subproblems' identifiers), but a
// server may send `"error": [[[[...]]]]` a million levels deep: nlohmann
// parses and frees that without recursion, yet copies it (an order keeps its
// error) one stack frame per level, and the stack overflowed
// (tests/fuzz/regressions/acme_json/deep-error.json).

#include <string_view>

#include <nlohmann/json.hpp>

namespace ck::acme {

/// Deeper than any ACME object (RFC 8555 §7.1, RFC 7807 subproblems).
inline constexpr int kMaxDocumentDepth = 32;

/// The JSON value of `body`; a discarded value (is_discarded()) when it is
/// not JSON or nests deeper than kMaxDocumentDepth, as if it were malformed.
[[nodiscard]] nlohmann::json parse_document(std::string_view body);

}  // namespace ck::acme
