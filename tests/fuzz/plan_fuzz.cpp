// Rollout plans (rollout/plan.h), through the TOML reader.

#include "fuzz_input.h"
#include "rollout/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ck::fuzz::ScratchFile file("plan.toml");
  if (auto plan = ck::rollout::load_plan(file.write(ck::fuzz::text(data, size)))) {
    CK_ASSERT(!plan->stages.empty());
    for (const auto& stage : plan->stages) {
      CK_ASSERT(!stage.targets.empty() && stage.parallel >= 1);
      for (const auto& target : stage.targets) {
        for (const auto& ep : target.endpoints)
          CK_ASSERT(ep.port != 0 && !ep.host.empty());
      }
    }
  }
  return 0;
}
