#pragma once
// Changing the passphrase that protects what a store keeps secret: the CA
// key, every version of every server certificate key, the ACME account keys
// (PKCS#8, encrypted as core/pem.h says) and the files rollouts backed up
// (sealed, core/seal.h). Everything moves to the new passphrase in one write
// transaction, so a store never holds keys under two passphrases: a key that
// does not open, a crash or a lost connection leaves every key as it was.
//
// CRL canary keys are sealed under the CA key itself (ca/canary_seal.h), not
// the passphrase, and stay as they are.

#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/pem.h"
#include "core/random.h"
#include "store/store.h"

namespace ck::rekey {

struct PassphraseChangeReport {
  bool ca_key = false;           // the CA key was re-encrypted
  bool ca_key_in_token = false;  // the CA key is in a PKCS#11 token: nothing to do
  int server_keys = 0;           // server certificate key versions
  int acme_accounts = 0;
  int rollout_backups = 0;
};

/// Opens every stored key and sealed backup with `current` (null when
/// nothing is encrypted yet: keys stored before any passphrase was set) and
/// encrypts or seals each under `next`, clear ones included. A key or backup
/// that `current` does not open stops the change, naming it, and changes
/// nothing. `next` must not be empty.
[[nodiscard]] Result<PassphraseChangeReport> change_passphrase(
    store::Store& store, const Secret* current, const Secret& next, RandomSource& random,
    const Clock& clock, const std::string& actor);

}  // namespace ck::rekey
