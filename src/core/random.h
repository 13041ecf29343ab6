#pragma once
// Randomness comes through an injected source so tests can fix serials.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"

namespace ck {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  /// Fills `out` with cryptographically strong random bytes.
  [[nodiscard]] virtual Status fill(std::span<std::uint8_t> out) = 0;
};

/// OpenSSL's CSPRNG (RAND_bytes, seeded from the OS).
class SystemRandom final : public RandomSource {
 public:
  [[nodiscard]] Status fill(std::span<std::uint8_t> out) override;
};

}  // namespace ck
