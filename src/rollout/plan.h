#pragma once
// A rollout plan (docs/rollout.md): which certificate goes where, in which
// stages, deployed how, and which endpoints must then serve it. Loading
// checks everything that can be checked without touching anything, and
// every error names the plan file and line.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/fingerprint.h"
#include "probe/target.h"

namespace ck::rollout {

/// The certificate to roll out: a stored server certificate, or files.
struct CertificateSource {
  std::string name;  // stored name; or:
  std::optional<std::filesystem::path> cert_file, key_file, chain_file;
  std::optional<std::filesystem::path> previous_cert_file, previous_key_file, previous_chain_file;
  /// The trust anchors served chains must verify against (else --ca-file,
  /// else the system store).
  std::optional<std::filesystem::path> ca_file;
  int line = 0;
  int ca_file_line = 0;
};

/// When a hook runs: before a rollout (or rollback) changes anything, or
/// after it ended, whatever the outcome.
enum class HookWhen { Before, After };
[[nodiscard]] const char* to_string(HookWhen when);
/// "before" or "after"; anything else is InvalidArgument.
[[nodiscard]] Result<HookWhen> parse_hook_when(std::string_view text);

struct Hook {
  HookWhen when = HookWhen::Before;
  std::vector<std::string> command;
  std::chrono::seconds timeout{60};
  int line = 0;
};

/// Files holding a pinned fingerprint (monit certmd5, ...) to rewrite.
struct Pin {
  std::vector<std::string> paths;  // globs, relative to the plan's folder
  DigestKind algorithm = DigestKind::Sha256;
  FingerprintFormat format = FingerprintFormat::Hex;
  int line = 0;
};

enum class DeployKind { Files, Command };

struct Deploy {
  DeployKind kind = DeployKind::Files;
  // files
  std::optional<std::filesystem::path> cert, key, chain, fullchain;
  unsigned mode = 0600;      // cert, chain, fullchain
  unsigned key_mode = 0600;  // the key: 0600 unless given; at most 0640
  std::string owner, group;
  std::vector<std::string> reload;
  // command
  std::vector<std::string> command, check_command, rollback_command;
  std::chrono::seconds timeout{60};
};

struct Target {
  std::string name;
  std::vector<probe::Target> endpoints;
  std::chrono::seconds verify_timeout{30};
  /// false: the chain an endpoint sends is not verified (a client in front of
  /// it, such as a CDN, adds the intermediates); leaf and name still are.
  bool verify_chain = true;
  Deploy deploy;
  int line = 0;
};

struct Stage {
  std::string name;
  int parallel = 1;
  std::vector<Target> targets;
  int line = 0;
};

struct Plan {
  std::filesystem::path file;
  CertificateSource certificate;
  std::vector<Hook> hooks;
  std::vector<Pin> pins;
  std::vector<std::filesystem::path> cleanup;
  std::vector<Stage> stages;
};

/// Reads and checks a plan. Unknown keys, a stage without targets, an
/// endpoint without a port, a missing certificate, duplicate names, a deploy
/// step without what its kind needs: each is an error naming the line.
[[nodiscard]] Result<Plan> load_plan(const std::filesystem::path& file);

/// `stage`, as given by --stage, names a stage of the plan ("" is every
/// stage); otherwise an error naming the plan file and the stage.
[[nodiscard]] Status check_stage(const Plan& plan, const std::string& stage);

/// An endpoint as plans write it: `host:port` or `host:port@sni` (the port
/// is required: a plan names exactly what serves the certificate).
[[nodiscard]] Result<probe::Target> parse_endpoint(std::string_view text);

}  // namespace ck::rollout
