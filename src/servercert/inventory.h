#pragma once
// The store's server certificates: every version under its name, the key
// encrypted at rest like the CA key, and the files an operator asked for
// (--out) rewritten atomically on every renewal.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/pem.h"
#include "servercert/material.h"
#include "store/store.h"

namespace ck::servercert {

/// What `cert list` and `--json` show; never the key.
struct ServerCertView {
  std::string name;
  std::int64_t version = 0;
  std::string source;
  std::vector<std::string> domains;
  std::string subject;
  std::string issuer;
  Seconds not_before{};
  Seconds not_after{};
  std::int64_t days_left = 0;
  std::string sha256;  // lower-case hex
  bool key_encrypted = false;
};

/// How `Inventory::save` treats a certificate that is not newer than the
/// newest stored version of its name.
enum class SavePolicy {
  NewVersion,        // ACME issue/renew: every issuance is a new version
  ImportNewer,       // cert import: the newest again, or an older one, is refused
  ImportAllowOlder,  // cert import --allow-older: an older one is stored (the newest again is not)
};

/// Whether opening a key stored by an earlier version also stores it
/// re-encrypted with today's PBKDF2 iterations.
enum class KeyUpgrade { Store, Skip };

class Inventory {
 public:
  Inventory(store::Store& store, const Clock& clock, const Secret* passphrase, std::string actor)
      : store_(store), clock_(clock), passphrase_(passphrase), actor_(std::move(actor)) {}

  /// Stores `m` as the next version of `name` in one transaction, with an
  /// audit entry. `settings` is what the next renewal reuses. Under an import
  /// policy, the newest version again (same leaf, same chain) fails with
  /// AlreadyExists and an older certificate (earlier notAfter) with
  /// FailedPrecondition; both change nothing.
  [[nodiscard]] Result<store::ServerCertRecord> save(const std::string& name,
                                                     const std::string& source, const Material& m,
                                                     const std::string& settings,
                                                     SavePolicy policy = SavePolicy::NewVersion);
  /// The newest version, or a NotFound naming the certificate.
  [[nodiscard]] Result<store::ServerCertRecord> find(const std::string& name);
  /// One given version, or a NotFound naming it.
  [[nodiscard]] Result<store::ServerCertRecord> find_version(const std::string& name,
                                                             std::int64_t version);
  [[nodiscard]] Result<std::vector<store::ServerCertRecord>> list();
  /// The certificate, chain and decrypted key of a stored version. A key
  /// encrypted with fewer PBKDF2 iterations than kKeyPbkdf2Iterations (stored
  /// by an earlier version) is re-encrypted and stored, with an audit entry,
  /// unless `upgrade` is Skip (a dry run or a check, which change nothing).
  [[nodiscard]] Result<Material> load(const store::ServerCertRecord& rec,
                                      KeyUpgrade upgrade = KeyUpgrade::Store);
  [[nodiscard]] Result<ServerCertView> view(const store::ServerCertRecord& rec) const;
  /// Whether keys are encrypted at rest (a passphrase is set).
  [[nodiscard]] bool encrypts() const { return passphrase_ != nullptr && !passphrase_->empty(); }

 private:
  [[nodiscard]] Status reencrypt(const store::ServerCertRecord& rec, const EVP_PKEY& key);

  store::Store& store_;
  const Clock& clock_;
  const Secret* passphrase_;
  std::string actor_;
};

/// Writes cert.pem, chain.pem, fullchain.pem and key.pem (all 0600) for
/// `dir`: into a folder of their own (`dir/.v-<sha256 prefix>`), then switches
/// the symlink `dir/current` to it in one rename; `dir/cert.pem` etc. are
/// symlinks through `current`. Keeps the set it replaced, wipes older ones;
/// creates `dir` (0700) if missing.
[[nodiscard]] Status write_out(const std::filesystem::path& dir, const Material& m);

/// Reads a certificate bought elsewhere: `cert` may hold the chain after
/// the leaf (a fullchain file); `chain` adds issuers; `key` may be
/// encrypted (then `key_passphrase` opens it).
[[nodiscard]] Result<Material> read_import(const std::filesystem::path& cert,
                                           const std::filesystem::path& key,
                                           const std::optional<std::filesystem::path>& chain,
                                           const Secret* key_passphrase);

/// A key the store keeps encrypted with the CA passphrase.
struct EncryptedKey {
  std::string what;  // "the CA key", "the key of server certificate 'www'", ...
  std::string pem;
};

/// The first key the store keeps encrypted: the CA key, else the newest
/// version of a server certificate key, else an ACME account key; nullopt
/// when none is (or the CA key is in a token and nothing else is stored).
[[nodiscard]] Result<std::optional<EncryptedKey>> find_encrypted_key(store::Tx& tx);

/// Before a new key is stored under `passphrase` (in the clear when it is
/// null or empty): the store's encrypted keys must open with it. A stale
/// passphrase (after `ca passphrase change`) or a mistyped one would
/// otherwise leave keys under two passphrases, and a store whose keys are
/// encrypted would get one in the clear. Costs one key derivation.
[[nodiscard]] Status check_store_passphrase(store::Tx& tx, const Secret* passphrase);

/// The DNS names a certificate is for: its SAN DNS names, else its CN.
[[nodiscard]] std::vector<std::string> cert_domains(const X509& cert);

/// "wildcard.example.org" from "*.example.org": a name for --name defaults.
[[nodiscard]] std::string default_name(const std::string& first_domain);

/// The error for a certificate name that breaks the rules of names (core/names.h).
[[nodiscard]] Error invalid_name(std::string_view name);

}  // namespace ck::servercert
