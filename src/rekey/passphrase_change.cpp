#include "rekey/passphrase_change.h"

#include <optional>
#include <string_view>

#include "core/fault.h"
#include "core/seal.h"
#include "rollout/backup_seal.h"

namespace ck::rekey {
namespace {

Error nothing_changed(Error e) {
  e.message += " (nothing changed)";
  return e;
}

// A stored key in `next`'s PEM. `what` names the key in errors.
Result<std::string> reencrypt(std::string_view pem, bool encrypted, const Secret* current,
                              const Secret& next, const std::string& what) {
  if (encrypted && current == nullptr) {
    return fail(Code::FailedPrecondition,
                what +
                    " is encrypted and no current passphrase was given: set "
                    "CERTKEEPER_CA_PASSPHRASE or [ca] passphrase_file to the passphrase it "
                    "has now");
  }
  auto key = parse_private_key(pem, what, encrypted ? current : nullptr);
  if (!key)
    return fail(nothing_changed(std::move(key).error()));
  return private_key_to_pem(**key, &next);
}

tl::unexpected<Error> changed_meanwhile(const std::string& what) {
  return fail(Code::FailedPrecondition,
              what +
                  " changed while its passphrase was being changed: nothing "
                  "changed, run the command again");
}

}  // namespace

Result<PassphraseChangeReport> change_passphrase(store::Store& store, const Secret* current,
                                                 const Secret& next, RandomSource& random,
                                                 const Clock& clock, const std::string& actor) {
  if (next.empty())
    return fail(Code::InvalidArgument, "the new passphrase is empty");
  PassphraseChangeReport report;
  CK_ASSIGN(auto tx, store.write());

  CK_ASSIGN(const auto ca, tx->find_ca());
  if (ca && !ca->key_uri.empty()) {
    report.ca_key_in_token = true;
  } else if (ca) {
    CK_ASSIGN(const auto pem,
              reencrypt(ca->key_pem, ca->key_encrypted, current, next, "the CA key"));
    CK_ASSIGN(const bool replaced, tx->replace_ca_key(ca->key_pem, pem, true));
    if (!replaced)
      return changed_meanwhile("the CA key");
    report.ca_key = true;
  }

  // Every version: an older one is what `rollout rollback` deploys again.
  CK_ASSIGN(const auto newest, tx->list_server_certs());
  for (const auto& head : newest) {
    for (std::int64_t version = 1; version <= head.version; ++version) {
      CK_ASSIGN(const auto rec, tx->find_server_cert(head.name, version));
      if (!rec || rec->key_pem.empty())
        continue;
      const std::string what =
          "the key of server certificate '" + head.name + "' version " + std::to_string(version);
      CK_ASSIGN(const auto pem, reencrypt(rec->key_pem, rec->key_encrypted, current, next, what));
      CK_ASSIGN(const bool replaced,
                tx->replace_server_cert_key(head.name, version, rec->key_pem, pem, true));
      if (!replaced)
        return changed_meanwhile(what);
      ++report.server_keys;
    }
  }

  CK_ASSIGN(const auto accounts, tx->list_acme_accounts());
  for (const auto& account : accounts) {
    const std::string what = "the ACME account key for " + account.directory;
    CK_ASSIGN(const auto pem,
              reencrypt(account.key_pem, account.key_encrypted, current, next, what));
    CK_ASSIGN(const bool replaced,
              tx->replace_acme_account_key(account.directory, account.key_pem, pem, true));
    if (!replaced)
      return changed_meanwhile(what);
    ++report.acme_accounts;
  }

  CK_ASSIGN(auto steps, tx->rollout_steps_with_backup());
  std::optional<SealKey> seal_key;  // derived once: it is slow on purpose
  for (auto& step : steps) {
    const auto context = rollout::backup_seal_context(step.rollout_id, step.target);
    const std::string what =
        "the backup of rollout " + std::to_string(step.rollout_id) + " target " + step.target;
    std::string plain;
    if (step.backup_sealed) {
      if (current == nullptr) {
        return fail(Code::FailedPrecondition,
                    what + " is sealed and no current passphrase was given: nothing changed");
      }
      auto opened = unseal(step.backup, context, *current);
      if (!opened)
        return fail(nothing_changed(std::move(opened).error().context(what)));
      plain = std::move(*opened);
    } else {
      plain = step.backup;
    }
    if (!seal_key) {
      CK_ASSIGN(auto key, SealKey::derive(next, random));
      seal_key.emplace(std::move(key));
    }
    CK_ASSIGN(step.backup, seal_key->seal(plain, context, random));
    step.backup_sealed = true;
    CK_TRY(tx->put_rollout_step(step));
    ++report.rollout_backups;
  }

  // The detail counts what moved; it never holds a key or a passphrase.
  CK_TRY(tx->audit(
      store::AuditEntry{clock.now_seconds(), actor, "ca.passphrase_change", "store",
                        "ca key " + std::string(report.ca_key ? "re-encrypted" : "not stored") +
                            ", " + std::to_string(report.server_keys) + " server keys, " +
                            std::to_string(report.acme_accounts) + " ACME account keys, " +
                            std::to_string(report.rollout_backups) + " rollout backups"}));
  CK_FAULT_POINT("rekey.before_commit");
  CK_TRY(tx->commit());
  return report;
}

}  // namespace ck::rekey
