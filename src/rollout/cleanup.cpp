#include "rollout/cleanup.h"

#include "core/file_io.h"

namespace ck::rollout {

std::vector<std::string> wipe_cleanup_files(const Plan& plan, Progress& progress) {
  std::vector<std::string> problems;
  for (const auto& f : plan.cleanup) {
    auto removed = wipe_file(f);
    if (!removed) {
      problems.push_back(removed.error().message);
      progress.concern("cleanup: " + removed.error().message);
    } else {
      progress.note("cleanup: " + f.string() +
                    (*removed ? " overwritten and removed" : " was not there"));
    }
  }
  return problems;
}

}  // namespace ck::rollout
