#pragma once
// Base64 (RFC 4648 §4) and its URL-safe, unpadded form (§5), which JOSE and
// ACME use for every binary field.

#include <optional>
#include <string>
#include <string_view>

namespace ck {

[[nodiscard]] std::string base64_encode(std::string_view bytes);
/// URL-safe alphabet, no '=' padding.
[[nodiscard]] std::string base64url_encode(std::string_view bytes);
/// Decodes the URL-safe form (padding tolerated); nullopt when malformed.
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace ck
