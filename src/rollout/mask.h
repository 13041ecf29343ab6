#pragma once
// Command output goes to the rollout journal; a deploy command handed a key
// may print it (a verbose upload, `set -x`). What is stored is masked first.

#include <string>
#include <string_view>
#include <vector>

namespace ck::rollout {

/// `text` with every PEM private-key block, every occurrence of a secret,
/// and every base64 line of a secret PEM (a key re-wrapped by a tool) replaced
/// by "[secret]". Secrets shorter than 4 characters, and secret lines shorter
/// than 8, are ignored (they would mask ordinary words).
///
/// A secret that is a private key is also found in other encodings: any
/// base64 (standard or URL-safe, wrapped at any width, CRLF or LF) or hex
/// (`openssl pkey -text`, `xxd -p`, with or without colons) whose bytes hold
/// 16 bytes in a row of one of its private numbers (the EC or EdDSA scalar;
/// RSA's d, p, q, dP, dQ, qInv) — so the DER of the key in any form (PKCS#8,
/// SEC1, PKCS#1). Those runs are masked a whitespace-separated word at a time.
[[nodiscard]] std::string mask_secrets(std::string text, const std::vector<std::string>& secrets);

/// The last `max` bytes of `text`, cut at a line start, for the journal.
[[nodiscard]] std::string tail(std::string_view text, std::size_t max);

}  // namespace ck::rollout
