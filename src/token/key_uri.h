#pragma once
// A key in a PKCS#11 token, named by an RFC 7512 URI such as
// "pkcs11:token=ca-token;object=ca-key". certkeeper stores it with the CA
// record, so it names the key and nothing else: a URI carrying a PIN
// (pin-value, pin-source) or a module (module-name, module-path) is refused
// -- the PIN comes from CERTKEEPER_PKCS11_PIN or [pkcs11] pin_file, the
// module is each host's own setting ([pkcs11] module).

#include <string>
#include <string_view>

#include "core/error.h"

namespace ck::token {

struct KeyUri {
  std::string token;   // the token's label (CK_TOKEN_INFO.label)
  std::string object;  // the key's CKA_LABEL
  std::string id;      // the key's CKA_ID bytes; empty when not given

  /// The canonical form, percent-encoded where RFC 7512 asks:
  /// "pkcs11:token=...;object=...[;id=%01%02]".
  [[nodiscard]] std::string text() const;
  /// text() narrowed to the private key (";type=private"): what the engine loads.
  [[nodiscard]] std::string private_key_text() const;
};

/// Parses a key URI. `token` and `object` are required (a key generated or
/// adopted by certkeeper is found by both); `type`, when present, must be
/// "private". Errors name the attribute, never a PIN's value.
[[nodiscard]] Result<KeyUri> parse_key_uri(std::string_view text);

}  // namespace ck::token
