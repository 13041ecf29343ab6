#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/random.h"

namespace ck::ca {

/// 128 random bits from the CSPRNG as a positive serial (RFC 5280 §4.1.2.2:
/// positive, at most 20 octets; CA/B Forum asks for >= 64 random bits). The
/// first byte is never zero, so every serial has the same 16-byte magnitude.
[[nodiscard]] Result<std::string> random_serial(RandomSource& random);

/// Uppercase hex of a serial's magnitude, as `openssl x509 -serial` prints it.
[[nodiscard]] std::string serial_hex(std::string_view serial);

/// Parses a serial given on the command line (hex, optional colons).
[[nodiscard]] Result<std::string> parse_serial_hex(std::string_view hex);

}  // namespace ck::ca
