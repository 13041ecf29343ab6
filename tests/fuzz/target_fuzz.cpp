// Probe targets (probe/target.h): a targets file, each line as a target (with
// and without a default port), as a plan endpoint (rollout/plan.h), and as a
// STARTTLS protocol name.

#include "fuzz_input.h"
#include "probe/target.h"
#include "rollout/plan.h"

namespace {

void check(const ck::Result<ck::probe::Target>& t) {
  if (t)
    CK_ASSERT(t->port != 0 && !t->host.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ck::fuzz::ScratchFile file("targets.txt");
  const auto in = ck::fuzz::text(data, size);
  if (auto targets = ck::probe::read_targets_file(file.write(in), 443)) {
    for (const auto& t : *targets)
      CK_ASSERT(t.port != 0 && !t.host.empty());
  }
  for (const auto line : ck::fuzz::lines(in)) {
    check(ck::probe::parse_target(line, 443));
    check(ck::probe::parse_target(line, 25));
    check(ck::rollout::parse_endpoint(line));
    (void)ck::probe::parse_starttls(line);
    (void)ck::probe::is_ip_literal(line);
  }
  return 0;
}
