#pragma once
// The files a deploy or a pin rewrite replaces are journaled so rollback can
// put them back; they hold keys and whole config files, so with a CA
// passphrase they are sealed (core/seal.h), bound to their rollout and target.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "core/seal.h"
#include "rollout/file_backup.h"
#include "rollout/journal.h"

namespace ck::rollout {

/// What a backup's seal is bound to: its rollout and target, so a blob
/// cannot be moved to another row unnoticed.
[[nodiscard]] std::string backup_seal_context(std::int64_t rollout_id, const std::string& target);

class BackupSeal {
 public:
  /// `passphrase` may be null or empty: backups are then kept in the clear.
  BackupSeal(const Secret* passphrase, RandomSource& random)
      : passphrase_(passphrase), random_(random) {}

  /// Puts `states` into `row` as its backup, sealed when there is a
  /// passphrase. The sealing key is derived once per run (it is slow).
  [[nodiscard]] Status keep(StepRow& row, const std::vector<FileState>& states,
                            std::int64_t rollout_id);
  /// The files `row` kept (none when it kept nothing).
  [[nodiscard]] Result<std::vector<FileState>> open(const StepRow& row,
                                                    std::int64_t rollout_id) const;

 private:
  [[nodiscard]] bool seals() const { return passphrase_ != nullptr && !passphrase_->empty(); }
  const Secret* passphrase_;
  RandomSource& random_;
  std::mutex mu_;
  std::optional<SealKey> key_;
};

}  // namespace ck::rollout
