// The CSV of `user import` (ca/user_csv.h).

#include "ca/user_csv.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (auto users = ck::ca::parse_user_csv(ck::fuzz::text(data, size), "fuzz.csv")) {
    for (const auto& u : *users)
      CK_ASSERT(!u.name.empty());
  }
  return 0;
}
