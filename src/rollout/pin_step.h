#pragma once
// The pins step of a rollout (docs/rollout.md, "Pinned fingerprints"): once
// every target is verified, the files that pin the old certificate's
// fingerprint are rewritten to name the new one. Like a files deploy, the
// files are journaled (sealed) first, under the pseudo-target kPinsStep, so
// a rollback puts them back.

#include <string>

#include "core/error.h"
#include "rollout/backup_seal.h"
#include "rollout/journal.h"
#include "rollout/plan.h"
#include "rollout/progress.h"
#include "servercert/inventory.h"

namespace ck::rollout {

/// Rewrites the plan's pins from the previous certificate's fingerprint to
/// that of `sha256`; done once (a verified pins step is left alone), and a
/// stopped earlier attempt's backup is kept.
[[nodiscard]] Status rewrite_pins(const Plan& plan, servercert::Inventory& inventory,
                                  const std::string& sha256, Journal& journal, BackupSeal& seal,
                                  Progress& progress);

/// Rollback: the pin files the journal kept put back, once.
[[nodiscard]] Status restore_pins(Journal& journal, const BackupSeal& seal, Progress& progress);

}  // namespace ck::rollout
