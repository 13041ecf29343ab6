#include "core/random.h"

#include <climits>

#include <openssl/rand.h>

#include "core/ossl.h"

namespace ck {

Status SystemRandom::fill(std::span<std::uint8_t> out) {
  CK_ASSERT(out.size() <= INT_MAX);
  if (::RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return fail(ossl_error("random number generator failed"));
  }
  return {};
}

}  // namespace ck
