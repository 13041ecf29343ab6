#pragma once
// Deploying a certificate on a target, by its kind: `files` (written next to
// each other, staged and put in place together, then a reload command) or
// `command` (a deploy command reading scratch files). Also the way back
// (the journaled files restored, or a rollback command), the plan commands
// and hooks all run through (output masked and kept to its tail), and the
// checks of programs, users and groups made before anything runs.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/argv_template.h"
#include "core/error.h"
#include "rollout/bundle.h"
#include "rollout/file_backup.h"
#include "rollout/plan.h"
#include "rollout/verifier.h"

namespace ck::rollout {

/// "'plan.toml' line 7", for errors naming a plan line.
[[nodiscard]] std::string plan_line(const Plan& plan, int line);

/// Everything that can be checked before anything runs: the stage asked for,
/// the trust anchors, every program, every owner and group.
[[nodiscard]] Status preflight(const Plan& plan, const std::string& stage, Verifier& verifier,
                               const probe::ProbeOptions& probe_options);

/// The paths a files deploy writes, with what goes into each (the key last).
[[nodiscard]] std::vector<std::pair<std::filesystem::path, const std::string*>> file_contents(
    const Deploy& d, const CertBundle& b);
/// The paths a files deploy writes.
[[nodiscard]] std::vector<std::filesystem::path> file_paths(const Deploy& d);

/// Runs a plan command; a non-zero exit is an error carrying the masked
/// output's last line. The masked output (its tail) is returned either way.
[[nodiscard]] Status run_plan_command(const std::vector<std::string>& argv, const Variables& vars,
                                      std::chrono::seconds timeout, const std::string& what,
                                      const std::vector<std::string>& secrets, std::string& output);

/// The certificate a files target's backup held (its cert or fullchain
/// file), which a rollback must then see served; nullopt when it held none.
[[nodiscard]] std::optional<std::string> restored_sha256(const Deploy& d,
                                                         const std::vector<FileState>& backup);

class Deployer {
 public:
  /// `secrets` (the passphrase, the keys deployed) are masked in every
  /// output; the vector may grow until the first command runs.
  explicit Deployer(const std::vector<std::string>& secrets) : secrets_(secrets) {}

  /// run_plan_command with this run's secrets.
  [[nodiscard]] Status command(const std::vector<std::string>& argv, const Variables& vars,
                               std::chrono::seconds timeout, const std::string& what,
                               std::string& output) const;
  /// Deploys `bundle` on a target; `output` gets what its command printed.
  [[nodiscard]] Status deploy(const Target& t, const CertBundle& bundle, std::string& output) const;
  /// A files target: the journaled files put back, then its reload.
  [[nodiscard]] Status restore(const Target& t, const std::vector<FileState>& backup,
                               std::string& output) const;
  /// A command target: its rollback_command (else its deploy command), given
  /// the previous certificate's scratch files when the plan names it. The
  /// outer error: nothing ran (the scratch files could not be written); the
  /// inner one: the command failed.
  [[nodiscard]] Result<Status> roll_back(const Target& t, const std::string& name,
                                         const std::optional<CertBundle>& previous,
                                         std::string& output) const;

 private:
  [[nodiscard]] Status write_files(const Deploy& d, const CertBundle& bundle) const;
  const std::vector<std::string>& secrets_;
};

}  // namespace ck::rollout
