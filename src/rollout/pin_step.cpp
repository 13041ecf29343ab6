#include "rollout/pin_step.h"

#include <unistd.h>

#include <algorithm>

#include "core/fault.h"
#include "core/file_io.h"
#include "rollout/bundle.h"
#include "rollout/file_backup.h"
#include "rollout/pins.h"

namespace ck::rollout {

Status rewrite_pins(const Plan& plan, servercert::Inventory& inventory, const std::string& sha256,
                    Journal& journal, BackupSeal& seal, Progress& progress) {
  if (plan.pins.empty())
    return {};
  const auto before = journal.step(kPinsStep);
  if (before && before->state == StepState::Verified)
    return {};
  CK_ASSIGN(const auto old_cert, load_previous_cert(plan, inventory, sha256));
  if (!old_cert) {
    progress.concern(
        "pins: the plan names no previous certificate, so no old fingerprint to replace");
    return {};
  }
  CK_ASSIGN(const auto new_cert, load_plan_cert(plan, inventory, sha256));
  CK_ASSIGN(const auto edits, plan_pin_edits(plan, **old_cert, *new_cert));
  // A stopped earlier attempt kept the files as they were before any of
  // them changed: those stay the backup; files it had not reached join it.
  std::vector<FileState> states;
  if (before) {
    CK_ASSIGN(states, seal.open(*before, journal.id()));
  }
  const auto backed_up = [&](const std::filesystem::path& p) {
    return std::find_if(states.begin(), states.end(),
                        [&](const FileState& f) { return f.path == p; });
  };
  std::vector<std::filesystem::path> fresh;
  std::size_t to_write = 0;
  for (const auto& e : edits) {
    if (e.replaced > 0) {
      ++to_write;
      if (backed_up(e.path) == states.end())
        fresh.push_back(e.path);
    } else if (!e.holds_new) {
      progress.concern("pins: " + e.path.string() +
                       " holds neither the old nor the new fingerprint");
    }
  }
  if (to_write == 0 && states.empty()) {
    progress.note("pins: nothing to replace");
    return {};
  }
  CK_ASSIGN(auto captured, capture(fresh));
  for (auto& f : captured)
    states.push_back(std::move(f));
  // Pin files are whole config files (a monitrc holds mail and httpd
  // passwords): their backup is sealed like the targets'.
  StepRow s;
  s.target = kPinsStep;
  s.state = StepState::Deploying;
  CK_TRY(seal.keep(s, states, journal.id()));
  // A replaced file is a new file owned by whoever runs certkeeper; only
  // root can give it back to another user, so that is checked before the
  // first write rather than found after it.
  for (const auto& e : edits) {
    const auto it = backed_up(e.path);
    if (e.replaced > 0 && ::geteuid() != 0 && it->uid != ::geteuid()) {
      return fail(Code::PermissionDenied,
                  "pins: '" + e.path.string() + "' belongs to uid " + std::to_string(it->uid) +
                      "; rewriting it would change its owner (run as root or as its owner)");
    }
  }
  CK_TRY(journal.put(s));
  CK_FAULT_POINT("rollout.pins_backup");
  for (const auto& e : edits) {
    if (e.replaced == 0)
      continue;
    const auto was = backed_up(e.path);
    CK_TRY(write_file_atomic(e.path, e.after, was->mode, FileOwner{was->uid, was->gid}));
    CK_FAULT_POINT("rollout.mid_pins");
    progress.note("pins: " + e.path.string() + ": " + std::to_string(e.replaced) + " fingerprint" +
                  (e.replaced == 1 ? "" : "s") + " replaced");
  }
  // Every file this step rewrote, now or in a stopped earlier attempt, gets
  // its owner back (a crash could have come between a write and its chown).
  for (const auto& f : states) {
    if (f.existed)
      CK_TRY(give_back(f).map_error([](Error e) { return std::move(e).context("pins"); }));
  }
  s.state = StepState::Verified;
  s.detail = std::to_string(states.size()) + " file(s) rewritten";
  return journal.put(s);
}

Status restore_pins(Journal& journal, const BackupSeal& seal, Progress& progress) {
  const auto pins = journal.step(kPinsStep);
  if (!pins || pins->state == StepState::RolledBack)
    return {};
  auto states = seal.open(*pins, journal.id());
  Status result = states ? restore(*states) : fail(states.error());
  CK_FAULT_POINT("rollout.rollback_pins");
  if (result) {
    auto s = *pins;
    s.state = StepState::RolledBack;
    result = journal.put(s);
    progress.note("pins: " + std::to_string(states->size()) + " file(s) put back");
  }
  return result;
}

}  // namespace ck::rollout
