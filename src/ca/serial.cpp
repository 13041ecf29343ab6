#include "ca/serial.h"

#include <array>
#include <cstdint>

#include "core/hex.h"

namespace ck::ca {

Result<std::string> random_serial(RandomSource& random) {
  std::array<std::uint8_t, 16> bytes{};
  do {
    CK_TRY(random.fill(bytes));
  } while (bytes[0] == 0);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string serial_hex(std::string_view serial) {
  return to_hex(serial);
}

Result<std::string> parse_serial_hex(std::string_view hex) {
  std::string digits(hex);
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    digits.erase(0, 2);
  }
  if (digits.size() % 2 != 0) {
    digits.insert(digits.begin(), '0');
  }
  auto bytes = from_hex(digits);
  if (!bytes || bytes->size() > 20) {
    return fail(Code::InvalidArgument,
                "invalid serial '" + std::string(hex) + "' (hex, up to 20 octets)");
  }
  // Store the minimal magnitude, as the certificate encodes it.
  std::size_t skip = 0;
  while (skip + 1 < bytes->size() && (*bytes)[skip] == '\0')
    ++skip;
  return bytes->substr(skip);
}

}  // namespace ck::ca
