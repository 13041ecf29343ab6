#include "rollout/deployer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/fault.h"
#include "core/file_io.h"
#include "core/fingerprint.h"
#include "core/pem.h"
#include "core/subprocess.h"
#include "core/system_lookup.h"
#include "rollout/mask.h"

namespace ck::rollout {
namespace {

// The journal keeps the end of a command's output; the start of a long
// Ansible run is rarely what explains its failure.
constexpr std::size_t kOutputTail = 4096;

Status check_program(const Plan& plan, int line, const std::vector<std::string>& argv,
                     const char* what) {
  if (argv.empty() || program_found(argv[0]))
    return {};
  return fail(Code::NotFound, plan_line(plan, line) + ": " + what + " program '" + argv[0] +
                                  "' is not found (PATH or path)");
}

FilePaths deployed_paths(const Deploy& d) {
  const auto str = [](const std::optional<std::filesystem::path>& p) {
    return p ? p->string() : std::string();
  };
  return {str(d.cert), str(d.key), str(d.chain), str(d.fullchain)};
}

}  // namespace

std::string plan_line(const Plan& plan, int line) {
  return "'" + plan.file.string() + "' line " + std::to_string(line);
}

Status preflight(const Plan& plan, const std::string& stage, Verifier& verifier,
                 const probe::ProbeOptions& probe_options) {
  CK_TRY(check_stage(plan, stage));
  CK_TRY(verifier.ready(plan, probe_options));
  for (const auto& h : plan.hooks)
    CK_TRY(check_program(plan, h.line, h.command, "hook"));
  for (const auto& s : plan.stages) {
    for (const auto& t : s.targets) {
      const auto& d = t.deploy;
      CK_TRY(check_program(plan, t.line, d.reload, "reload"));
      CK_TRY(check_program(plan, t.line, d.command, "deploy"));
      CK_TRY(check_program(plan, t.line, d.check_command, "check"));
      CK_TRY(check_program(plan, t.line, d.rollback_command, "rollback"));
      if (!d.owner.empty() && !user_id(d.owner))
        return fail(Code::NotFound, plan_line(plan, t.line) + ": no user '" + d.owner + "'");
      if (!d.group.empty() && !group_id(d.group))
        return fail(Code::NotFound, plan_line(plan, t.line) + ": no group '" + d.group + "'");
    }
  }
  return {};
}

// The paths a files deploy writes, with what goes into each.
std::vector<std::pair<std::filesystem::path, const std::string*>> file_contents(
    const Deploy& d, const CertBundle& b) {
  std::vector<std::pair<std::filesystem::path, const std::string*>> out;
  if (d.cert)
    out.emplace_back(*d.cert, &b.cert_pem);
  if (d.chain)
    out.emplace_back(*d.chain, &b.chain_pem);
  if (d.fullchain)
    out.emplace_back(*d.fullchain, &b.fullchain_pem);
  if (d.key)
    out.emplace_back(*d.key, &b.key_pem);  // last: a reader never sees a new key with an old cert
  return out;
}

std::vector<std::filesystem::path> file_paths(const Deploy& d) {
  std::vector<std::filesystem::path> out;
  for (const auto& p : {d.cert, d.chain, d.fullchain, d.key}) {
    if (p)
      out.push_back(*p);
  }
  return out;
}

Status run_plan_command(const std::vector<std::string>& argv, const Variables& vars,
                        std::chrono::seconds timeout, const std::string& what,
                        const std::vector<std::string>& secrets, std::string& output) {
  CK_ASSIGN(const auto rendered, render_argv(argv, vars, what));
  CommandOptions run_opts;
  run_opts.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  if (!rendered.empty())
    run_opts.name = what + " '" + rendered[0] + "'";
  run_opts.filter = [&secrets](std::string out) {
    return tail(mask_secrets(out, secrets), kOutputTail);
  };
  run_opts.name_run_errors = true;
  return run_command(rendered, run_opts, &output);
}

std::optional<std::string> restored_sha256(const Deploy& d, const std::vector<FileState>& backup) {
  for (const auto& f : backup) {
    if (!f.existed || (d.cert != f.path && d.fullchain != f.path))
      continue;
    if (auto c = parse_cert(f.bytes, f.path.string())) {
      if (auto fp = fingerprint(**c, DigestKind::Sha256, FingerprintFormat::Hex))
        return *fp;
    }
    break;
  }
  return std::nullopt;
}

Status Deployer::command(const std::vector<std::string>& argv, const Variables& vars,
                         std::chrono::seconds timeout, const std::string& what,
                         std::string& output) const {
  return run_plan_command(argv, vars, timeout, what, secrets_, output);
}

Status Deployer::write_files(const Deploy& d, const CertBundle& bundle) const {
  FileOwner owner;
  if (!d.owner.empty()) {
    CK_ASSIGN(owner.uid, user_id(d.owner));
  }
  if (!d.group.empty()) {
    CK_ASSIGN(owner.gid, group_id(d.group));
  }
  // Staged first, then put in place together: a full disk or a read-only
  // folder fails before any file changes (never a new chain with the old
  // key). The owner is set on each new file before it takes the name: never
  // by path, where a symlink could have been swapped in.
  StagedFiles staged;
  const auto contents = file_contents(d, bundle);
  for (const auto& [path, content] : contents)
    CK_TRY(staged.stage(path, *content, content == &bundle.key_pem ? d.key_mode : d.mode, owner));
  // Staged, nothing in place yet: rollback restores the journaled backup
  // (which still holds), resume writes them all again.
  CK_FAULT_POINT("rollout.mid_deploy");
  return staged.commit();
}

Status Deployer::deploy(const Target& t, const CertBundle& bundle, std::string& output) const {
  const auto& d = t.deploy;
  if (d.kind == DeployKind::Files) {
    CK_TRY(write_files(d, bundle));
    if (d.reload.empty())
      return {};
    return command(d.reload, command_variables(bundle, deployed_paths(d)), d.timeout, "reload",
                   output);
  }
  CK_ASSIGN(const auto scratch, ScratchFiles::write(bundle));
  return command(d.command, command_variables(bundle, scratch_paths(scratch)), d.timeout, "deploy",
                 output);
}

Status Deployer::restore(const Target& t, const std::vector<FileState>& backup,
                         std::string& output) const {
  CK_TRY(rollout::restore(backup));
  if (t.deploy.reload.empty())
    return {};
  return command(t.deploy.reload, command_variables(CertBundle{}, deployed_paths(t.deploy)),
                 t.deploy.timeout, "reload", output);
}

Result<Status> Deployer::roll_back(const Target& t, const std::string& name,
                                   const std::optional<CertBundle>& previous,
                                   std::string& output) const {
  std::optional<ScratchFiles> scratch;
  Variables vars{{"name", name}};
  if (previous) {
    CK_ASSIGN(auto files, ScratchFiles::write(*previous));
    scratch.emplace(std::move(files));
    vars = command_variables(*previous, scratch_paths(*scratch));
  }
  const auto& argv =
      t.deploy.rollback_command.empty() ? t.deploy.command : t.deploy.rollback_command;
  return command(argv, vars, t.deploy.timeout, "rollback", output);
}

}  // namespace ck::rollout
