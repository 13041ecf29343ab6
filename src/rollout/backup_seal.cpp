#include "rollout/backup_seal.h"

namespace ck::rollout {

std::string backup_seal_context(std::int64_t rollout_id, const std::string& target) {
  return "rollout " + std::to_string(rollout_id) + " target " + target;
}

Status BackupSeal::keep(StepRow& row, const std::vector<FileState>& states,
                        std::int64_t rollout_id) {
  auto plain = encode_backup(states);
  row.backup_sealed = seals();
  if (!seals()) {
    row.backup = std::move(plain);
    return {};
  }
  std::lock_guard lock(mu_);
  if (!key_) {
    CK_ASSIGN(auto key, SealKey::derive(*passphrase_, random_));
    key_.emplace(std::move(key));
  }
  CK_ASSIGN(row.backup, key_->seal(plain, backup_seal_context(rollout_id, row.target), random_));
  return {};
}

Result<std::vector<FileState>> BackupSeal::open(const StepRow& row, std::int64_t rollout_id) const {
  if (row.backup.empty())
    return std::vector<FileState>{};
  if (!row.backup_sealed)
    return decode_backup(row.backup);
  if (passphrase_ == nullptr)
    return fail(Code::FailedPrecondition,
                "the journal's backup of " + row.target +
                    " is encrypted: set the CA passphrase (CERTKEEPER_CA_PASSPHRASE)");
  CK_ASSIGN(const auto text,
            unseal(row.backup, backup_seal_context(rollout_id, row.target), *passphrase_));
  return decode_backup(text);
}

}  // namespace ck::rollout
