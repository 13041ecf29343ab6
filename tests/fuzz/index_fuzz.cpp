// The database of `openssl ca` (ca/openssl_index.h): index.txt, and the
// serial/crlnumber files.

#include "ca/openssl_index.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = ck::fuzz::text(data, size);
  if (auto entries = ck::ca::parse_openssl_index(in, "index.txt")) {
    for (const auto& e : *entries) {
      CK_ASSERT(e.status == 'V' || e.status == 'R' || e.status == 'E');
      CK_ASSERT(e.revoked_at.has_value() == (e.status == 'R'));
      CK_ASSERT(!e.subject.empty() && e.subject.front() == '/');
    }
  }
  if (auto n = ck::ca::parse_openssl_number(in, "crlnumber"))
    CK_ASSERT(*n >= 0);
  return 0;
}
