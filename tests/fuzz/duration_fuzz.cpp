// Durations as operators write them (core/duration.h): a parsed duration is
// positive and its shortest written form reads back as the same span.

#include "core/duration.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto d = ck::parse_duration(ck::fuzz::text(data, size));
  if (!d)
    return 0;
  CK_ASSERT(d->count() > 0);
  const auto again = ck::parse_duration(ck::format_duration(*d));
  CK_ASSERT(again.has_value() && *again == *d);
  (void)ck::format_duration_rough(*d);
  (void)ck::format_duration_rough(-*d);
  return 0;
}
