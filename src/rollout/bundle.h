#pragma once
// The certificate a rollout deploys, with its key, as the PEM texts deploy
// steps write, and the private scratch folder `command` deploys read it from.

#include <filesystem>
#include <optional>
#include <string>

#include "core/argv_template.h"
#include "core/clock.h"
#include "core/error.h"
#include "rollout/plan.h"
#include "servercert/inventory.h"

namespace ck::rollout {

struct CertBundle {
  std::string name;  // {{name}}: the stored name, or the certificate file's stem
  std::string cert_pem, chain_pem, fullchain_pem;
  std::string key_pem;  // secret: never logged, masked in command output
  std::string sha256, md5;
  Seconds not_after{};
};

/// The plan's certificate whose SHA-256 is `sha256` (the one a rollout
/// started with), with its key: for a stored name, that version; for files,
/// cert_file/key_file/chain_file, which must still hold it. A check passes
/// KeyUpgrade::Skip: it stores nothing (servercert::Inventory::load).
[[nodiscard]] Result<CertBundle> load_bundle(
    const Plan& plan, servercert::Inventory& inventory, const std::string& sha256, Seconds now,
    servercert::KeyUpgrade upgrade = servercert::KeyUpgrade::Store);

/// What the plan's certificate replaces, with its key, for rollback of
/// `command` targets: the stored version before `sha256`'s, or
/// previous_cert_file/previous_key_file. nullopt when the plan names none.
[[nodiscard]] Result<std::optional<CertBundle>> load_previous_bundle(
    const Plan& plan, servercert::Inventory& inventory, const std::string& sha256,
    servercert::KeyUpgrade upgrade = servercert::KeyUpgrade::Store);

/// The certificate whose SHA-256 is `sha256`, alone (no key: it may have been
/// cleaned up): what pins must name after a rollout.
[[nodiscard]] Result<X509Ptr> load_plan_cert(const Plan& plan, servercert::Inventory& inventory,
                                             const std::string& sha256);

/// The previous certificate alone (no key): what pins hold before a rollout.
[[nodiscard]] Result<std::optional<X509Ptr>> load_previous_cert(const Plan& plan,
                                                                servercert::Inventory& inventory,
                                                                const std::string& sha256);

/// A private folder (0700 under $TMPDIR) holding cert.pem, chain.pem,
/// fullchain.pem and key.pem (0600) for a command to read; the files are
/// overwritten and removed when it goes away.
class ScratchFiles {
 public:
  [[nodiscard]] static Result<ScratchFiles> write(const CertBundle& bundle);
  ScratchFiles(ScratchFiles&& other) noexcept : dir_(std::move(other.dir_)) { other.dir_.clear(); }
  ScratchFiles& operator=(ScratchFiles&&) = delete;
  ScratchFiles(const ScratchFiles&) = delete;
  ~ScratchFiles();
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  explicit ScratchFiles(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

/// The template variables of plan commands for `bundle`, its files at the
/// given paths ("" when a file is not written).
struct FilePaths {
  std::string cert, key, chain, fullchain;
};
[[nodiscard]] Variables command_variables(const CertBundle& bundle, const FilePaths& files);
[[nodiscard]] FilePaths scratch_paths(const ScratchFiles& scratch);

}  // namespace ck::rollout
