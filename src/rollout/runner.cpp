#include "rollout/runner.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "core/fault.h"
#include "core/file_io.h"
#include "core/hex.h"
#include "core/seal.h"
#include "core/subprocess.h"
#include "core/time_format.h"
#include "rollout/bundle.h"
#include "rollout/file_backup.h"
#include "rollout/mask.h"
#include "rollout/pins.h"

namespace ck::rollout {
namespace {

// The journal keeps the end of a command's output; the start of a long
// Ansible run is rarely what explains its failure.
constexpr std::size_t kOutputTail = 4096;
// The pseudo-target under which the pin files' backup is journaled.
constexpr const char* kPinsStep = "#pins";
constexpr auto kFirstRetry = std::chrono::milliseconds(250);
constexpr auto kLongestRetry = std::chrono::milliseconds(4000);

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words)
    out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string short_fp(const std::string& sha256) {
  return sha256.substr(0, 12);
}

std::string plan_line(const Plan& plan, int line) {
  return "'" + plan.file.string() + "' line " + std::to_string(line);
}

bool program_found(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::string dir(dirs.substr(0, colon));
    if (::access(((dir.empty() ? "." : dir) + "/" + program).c_str(), X_OK) == 0)
      return true;
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
  }
  return false;
}

Status check_program(const Plan& plan, int line, const std::vector<std::string>& argv,
                     const char* what) {
  if (argv.empty() || program_found(argv[0]))
    return {};
  return fail(Code::NotFound, plan_line(plan, line) + ": " + what + " program '" + argv[0] +
                                  "' is not found (PATH or path)");
}

Result<uid_t> user_id(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return fail(Code::NotFound, "no user '" + name + "'");
  return pw.pw_uid;
}

Result<gid_t> group_id(const std::string& name) {
  group gr{};
  group* found = nullptr;
  std::vector<char> buf(16384);
  if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return fail(Code::NotFound, "no group '" + name + "'");
  return gr.gr_gid;
}

// Everything that can be checked before anything runs: the stage asked for,
// the trust anchors, every program, every owner and group.
Status preflight(const Plan& plan, const std::string& stage,
                 const probe::ProbeOptions& probe_options, const Clock& clock) {
  if (!stage.empty() && std::none_of(plan.stages.begin(), plan.stages.end(),
                                     [&](const Stage& s) { return s.name == stage; })) {
    return fail(Code::InvalidArgument,
                "'" + plan.file.string() + "' has no stage \"" + stage + "\"");
  }
  CK_TRY(plan_scanner(plan, probe_options, clock));
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

FilePaths deployed_paths(const Deploy& d) {
  const auto str = [](const std::optional<std::filesystem::path>& p) {
    return p ? p->string() : std::string();
  };
  return {str(d.cert), str(d.key), str(d.chain), str(d.fullchain)};
}

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  const auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

std::string lock_name(const std::string& key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  if (EVP_Q_digest(nullptr, "SHA256", nullptr, key.data(), key.size(), md, &len) != 1)
    return "rollout.lock";
  return "rollout-" + to_hex(std::string_view(reinterpret_cast<const char*>(md), 8)) + ".lock";
}

// A target verified once whose endpoints no longer served the new
// certificate when probed again: not redeployed (something changed it since;
// a person looks), and not counted as verified.
constexpr const char* kReverifyFailed = "reverify-failed";

bool touched(const std::string& state) {
  return state == "deploying" || state == "deployed" || state == "verified" || state == "failed" ||
         state == kReverifyFailed || state == "rollback-failed" || state == "rolling-back";
}

// Deployed once in this rollout: later runs probe it, never deploy it again.
bool deployed_before(const std::optional<store::RolloutStepRecord>& st) {
  return st && (st->state == "verified" || st->state == kReverifyFailed);
}

std::string step_detail(const std::string& summary, const std::string& output) {
  return output.empty() ? summary : summary + "\n" + output;
}

StepReport to_report(const store::RolloutStepRecord& r) {
  StepReport out{r.stage, r.target, r.state, r.detail, "", r.at};
  if (const auto nl = r.detail.find('\n'); nl != std::string::npos) {
    out.detail = r.detail.substr(0, nl);
    out.output = r.detail.substr(nl + 1);
  }
  return out;
}

// Builds the report of a run from its journal rows, in plan order.
Report finish_report(const Plan& plan, const store::RolloutRecord& record,
                     const std::map<std::string, store::RolloutStepRecord>& steps) {
  Report rep;
  rep.rollout_id = record.id;
  rep.plan = plan.file.string();
  rep.state = record.state;
  rep.certificate = record.cert_source;
  rep.sha256 = record.cert_sha256;
  rep.previous_sha256 = record.previous_sha256;
  rep.started_at = record.started_at;
  rep.finished_at = record.finished_at;
  for (const auto& s : plan.stages) {
    for (const auto& t : s.targets) {
      const auto it = steps.find(t.name);
      if (it == steps.end())
        rep.steps.push_back({s.name, t.name, "pending", "", "", std::nullopt});
      else
        rep.steps.push_back(to_report(it->second));
    }
  }
  if (record.state == "failed" || record.state == "rollback-failed" || record.state == "running" ||
      record.state == "rolling-back")
    rep.failure = record.detail;
  return rep;
}

Report base_report(const Plan& plan, const PlanCertificate& cert) {
  Report rep;
  rep.plan = plan.file.string();
  rep.certificate = cert.describe;
  rep.sha256 = cert.sha256;
  rep.previous_sha256 = cert.previous_sha256;
  return rep;
}

// What a verification waits for: one fingerprint, or anything but one.
struct Expect {
  std::string sha256;      // serve this...
  std::string not_sha256;  // ...or, when sha256 is empty, anything but this
  std::string what;        // "the new certificate"
  bool trusted = false;    // and a client must accept it (chain, name)
};

}  // namespace

std::string plan_key(const Plan& plan) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(plan.file), ec);
  return (ec ? std::filesystem::absolute(plan.file) : p).string();
}

Runner::Runner(store::Store& store, servercert::Inventory& inventory, const Clock& clock,
               const Secret* passphrase, RandomSource& random, std::filesystem::path lock_dir)
    : store_(store),
      inventory_(inventory),
      clock_(clock),
      passphrase_(passphrase),
      random_(random),
      lock_dir_(std::move(lock_dir)) {}

// One invocation of apply, resume or rollback: the journal rows it writes
// (from several stage threads: one mutex), the material it deploys, and the
// stop flag a failure raises.
struct Runner::Run {
  Runner& r;
  const Plan& plan;
  const RunOptions& opts;
  PlanCertificate cert;
  store::RolloutRecord record;
  std::map<std::string, store::RolloutStepRecord> steps;
  std::optional<CertBundle> bundle;    // what is deployed (apply, resume, check)
  std::optional<CertBundle> previous;  // what rollback puts on command targets
  std::optional<SealKey> seal_key;
  std::vector<std::string> secrets;  // masked in every journaled output
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::string failure;
  std::vector<std::string> notes;

  Run(Runner& runner, const Plan& p, const RunOptions& o) : r(runner), plan(p), opts(o) {
    if (r.passphrase_ != nullptr && !r.passphrase_->empty())
      secrets.push_back(r.passphrase_->reveal());
  }

  void say(const std::string& line) {
    if (opts.progress) {
      std::lock_guard lock(mu);
      opts.progress(line);
    }
  }

  void note(const std::string& line) {
    std::lock_guard lock(mu);
    notes.push_back(line);
  }

  std::optional<store::RolloutStepRecord> step(const std::string& target) {
    std::lock_guard lock(mu);
    const auto it = steps.find(target);
    if (it == steps.end())
      return std::nullopt;
    return it->second;
  }

  Status put(store::RolloutStepRecord s) {
    s.rollout_id = record.id;
    s.at = r.clock_.now_seconds();
    std::lock_guard lock(mu);
    CK_ASSIGN(auto tx, r.store_.write());
    CK_TRY(tx->put_rollout_step(s));
    CK_TRY(tx->commit());
    steps[s.target] = std::move(s);
    return {};
  }

  // Updates a step's state and detail, keeping its backup.
  Status mark(const Stage& stage, const Target& t, const std::string& state,
              const std::string& detail) {
    auto s = step(t.name).value_or(store::RolloutStepRecord{});
    s.target = t.name;
    s.stage = stage.name;
    s.state = state;
    s.detail = detail;
    return put(std::move(s));
  }

  Status set_state(const std::string& state, const std::string& detail, bool finished) {
    std::lock_guard lock(mu);
    const auto finished_at = finished ? std::optional(r.clock_.now_seconds()) : record.finished_at;
    CK_ASSIGN(auto tx, r.store_.write());
    CK_TRY(tx->update_rollout(record.id, state, finished_at, detail));
    CK_TRY(tx->commit());
    // Only what the journal holds: a failed write leaves the report saying
    // what the store says.
    record.state = state;
    record.detail = detail;
    record.finished_at = finished_at;
    return {};
  }

  Status load_steps() {
    CK_ASSIGN(auto tx, r.store_.read());
    CK_ASSIGN(auto rows, tx->rollout_steps(record.id));
    for (auto& s : rows)
      steps[s.target] = std::move(s);
    return {};
  }

  void add_secrets(const CertBundle& b) { secrets.push_back(b.key_pem); }

  std::string mask(const std::string& output) const {
    return tail(mask_secrets(output, secrets), kOutputTail);
  }

  // Runs a plan command; a non-zero exit is an error carrying the masked
  // output's last line. The masked output is returned either way.
  Status command(const std::vector<std::string>& argv, const notify::Variables& vars,
                 std::chrono::seconds timeout, const std::string& what, std::string& output) {
    CK_ASSIGN(const auto rendered, notify::render_argv(argv, vars, what));
    auto result =
        run_process(rendered, "", std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    if (!result)
      return fail(result.error().code, what + " '" + rendered[0] + "': " + result.error().message);
    output = mask(result->output);
    if (result->exit_code != 0) {
      const auto line = last_line(output);
      return fail(Code::Unavailable, what + " '" + rendered[0] + "' exited with " +
                                         std::to_string(result->exit_code) +
                                         (line.empty() ? "" : ": " + line));
    }
    return {};
  }

  notify::Variables hook_variables(const std::string& outcome) const {
    return {{"name", plan.certificate.name.empty() ? plan.certificate.cert_file->stem().string()
                                                   : plan.certificate.name},
            {"fingerprint_sha256", cert.sha256},
            {"fingerprint_md5", cert.md5},
            {"not_after", format_iso8601(cert.not_after)},
            {"rollout", record.id != 0 ? std::to_string(record.id) : ""},
            {"outcome", outcome}};
  }

  Status hooks(const std::string& when, const std::string& outcome) {
    for (const auto& h : plan.hooks) {
      if (h.when != when)
        continue;
      say("hook " + when + ": " + join(h.command));
      std::string output;
      CK_TRY(command(h.command, hook_variables(outcome), h.timeout, "hook " + when, output));
    }
    return {};
  }

  // Probes a target's endpoints until each serves what `expect` says, or the
  // target's verify_timeout has passed; retries back off from 250 ms to 4 s.
  Status verify(const Target& t, const Expect& expect) {
    const auto deadline = r.clock_.steady_now() + t.verify_timeout;
    auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(kFirstRetry);
    CK_ASSIGN(auto scanner, plan_scanner(plan, opts.probe, r.clock_));
    while (true) {
      std::vector<std::string> wrong(t.endpoints.size());
      bool other_certificate = false;  // else only refused by a client
      CK_TRY(scanner->run(t.endpoints, [&](std::size_t i, probe::ProbeResult&& res) {
        const auto& ep = t.endpoints[i].text;
        if (!res.ok) {
          wrong[i] = ep + ": " + res.error;
          other_certificate = true;
        } else if (!expect.sha256.empty() ? res.sha256 != expect.sha256
                                          : res.sha256 == expect.not_sha256) {
          wrong[i] =
              ep + " serves " + name_of(res.sha256) + " (sha256 " + short_fp(res.sha256) + "…)";
          other_certificate = true;
        } else if (const auto why = expect.trusted ? client_refusal(res, t.verify_chain) : "";
                   !why.empty()) {
          wrong[i] = ep + " serves " + expect.what + ", but a client refuses it: " + why;
        }
      }));
      std::erase_if(wrong, [](const std::string& w) { return w.empty(); });
      if (wrong.empty())
        return {};
      const auto now = r.clock_.steady_now();
      std::string joined;
      for (const auto& w : wrong)
        joined += (joined.empty() ? "" : "; ") + w;
      if (now >= deadline) {
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.verify_timeout);
        return fail(
            Code::DeadlineExceeded,
            (other_certificate ? "not serving " + expect.what : std::string("not verified")) +
                " after " + std::to_string(secs.count()) + "s: " + joined);
      }
      say("  " + t.name + ": waiting (" + joined + ")");
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(delay, deadline - now));
      delay =
          std::min(delay * 2, std::chrono::duration_cast<std::chrono::milliseconds>(kLongestRetry));
    }
  }

  Expect expect_new() const { return {cert.sha256, "", "the new certificate", true}; }

  std::string name_of(const std::string& sha256) const {
    if (sha256 == cert.sha256)
      return "the new certificate";
    if (!cert.previous_sha256.empty() && sha256 == cert.previous_sha256)
      return "the old certificate";
    return "another certificate";
  }

  Result<std::string> sealed(const std::string& plain, const std::string& target) {
    if (r.passphrase_ == nullptr || r.passphrase_->empty())
      return plain;
    std::lock_guard lock(mu);
    if (!seal_key) {
      CK_ASSIGN(auto key, SealKey::derive(*r.passphrase_, r.random_));
      seal_key.emplace(std::move(key));
    }
    return seal_key->seal(plain, seal_context(target), r.random_);
  }

  std::string seal_context(const std::string& target) const {
    return "rollout " + std::to_string(record.id) + " target " + target;
  }

  // The files a step's journal row kept (none when it kept nothing).
  Result<std::vector<FileState>> backup_of(const store::RolloutStepRecord& s) const {
    if (s.backup.empty())
      return std::vector<FileState>{};
    CK_ASSIGN(const auto text, opened(s));
    return decode_backup(text);
  }

  Result<std::string> opened(const store::RolloutStepRecord& s) const {
    if (!s.backup_sealed)
      return s.backup;
    if (r.passphrase_ == nullptr)
      return fail(Code::FailedPrecondition,
                  "the journal's backup of " + s.target +
                      " is encrypted: set the CA passphrase (CERTKEEPER_CA_PASSPHRASE)");
    return unseal(s.backup, seal_context(s.target), *r.passphrase_);
  }

  Status write_files(const Deploy& d) {
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
    const auto contents = file_contents(d, *bundle);
    for (const auto& [path, content] : contents)
      CK_TRY(staged.stage(path, *content, content == &bundle->key_pem ? d.key_mode : d.mode,
                          owner));
    // Staged, nothing in place yet: rollback restores the journaled backup
    // (which still holds), resume writes them all again.
    CK_FAULT_POINT("rollout.mid_deploy");
    return staged.commit();
  }

  // Deploys the new certificate on a target; `output` gets what its command
  // printed.
  Status deploy(const Target& t, std::string& output) {
    const auto& d = t.deploy;
    if (d.kind == DeployKind::Files) {
      CK_TRY(write_files(d));
      if (d.reload.empty())
        return {};
      return command(d.reload, command_variables(*bundle, deployed_paths(d)), d.timeout, "reload",
                     output);
    }
    CK_ASSIGN(const auto scratch, ScratchFiles::write(*bundle));
    return command(d.command, command_variables(*bundle, scratch_paths(scratch)), d.timeout,
                   "deploy", output);
  }

  Status apply_target(const Stage& stage, const Target& t) {
    const auto before = step(t.name);
    const std::string where = stage.name + "/" + t.name;
    if (deployed_before(before)) {
      say(where + ": deployed earlier; verifying again");
      if (auto v = verify(t, expect_new()); !v) {
        // Its deploy succeeded once: resume probes it again rather than
        // deploying over whatever changed it since.
        CK_TRY(mark(stage, t, kReverifyFailed, "probing again failed: " + v.error().message));
        return fail(v.error().code, where + " (deployed earlier): " + v.error().message);
      }
      return mark(stage, t, "verified", "verified again (deployed earlier)");
    }
    store::RolloutStepRecord s;
    s.target = t.name;
    s.stage = stage.name;
    s.state = "deploying";
    if (t.deploy.kind == DeployKind::Files) {
      if (before && !before->backup.empty()) {
        s.backup = before->backup;  // the files as they were before this rollout's first try
        s.backup_sealed = before->backup_sealed;
      } else {
        CK_ASSIGN(const auto states, capture(file_paths(t.deploy)));
        const bool seal = r.passphrase_ != nullptr && !r.passphrase_->empty();
        CK_ASSIGN(s.backup, sealed(encode_backup(states), t.name));
        s.backup_sealed = seal;
      }
    }
    // Journal first: a crash from here on leaves a record rollback can use.
    CK_TRY(put(s));
    CK_FAULT_POINT("rollout.after_backup");
    say(where + ": deploying");
    std::string output;
    if (auto d = deploy(t, output); !d) {
      CK_TRY(mark(stage, t, "failed", step_detail(d.error().message, output)));
      return fail(d.error().code, where + ": " + d.error().message);
    }
    CK_TRY(mark(stage, t, "deployed", step_detail("deployed", output)));
    CK_FAULT_POINT("rollout.after_deploy");
    say(where + ": deployed; verifying " + std::to_string(t.endpoints.size()) + " endpoint" +
        (t.endpoints.size() == 1 ? "" : "s"));
    if (auto v = verify(t, expect_new()); !v) {
      CK_TRY(mark(stage, t, "failed", step_detail(v.error().message, output)));
      return fail(v.error().code, where + ": " + v.error().message);
    }
    CK_TRY(mark(stage, t, "verified", step_detail("verified", output)));
    say(where + ": verified");
    return {};
  }

  // Runs `fn` on the stage's targets, `parallel` at a time; the first
  // failure stops new targets from starting (running ones finish).
  template <class Fn>
  Status for_targets(const Stage& stage, const std::vector<const Target*>& targets, Fn fn) {
    std::atomic<std::size_t> next{0};
    std::optional<Error> first;
    const auto work = [&] {
      while (!stop) {
        const auto i = next++;
        if (i >= targets.size())
          return;
        auto st = fn(stage, *targets[i]);
        if (!st) {
          std::lock_guard lock(mu);
          if (!first)
            first = st.error();
          stop = true;
        }
      }
    };
    const auto threads = std::min<std::size_t>(
        static_cast<std::size_t>(std::max(stage.parallel, 1)), targets.size());
    {
      std::vector<std::jthread> pool;
      for (std::size_t i = 1; i < threads; ++i)
        pool.emplace_back(work);
      work();
    }
    if (first)
      return fail(*first);
    return {};
  }

  // apply --check: check commands and probes; nothing written, no hook, no
  // journal.
  Result<Report> check() {
    CK_TRY(load_certificate_and_key());
    Report rep = base_report(plan, cert);
    rep.state = "checked";
    CK_ASSIGN(const auto alignment, check_alignment(plan, cert, opts.probe, r.clock_, opts.stage));
    std::size_t e = 0;
    for (const auto& stage : plan.stages) {
      if (!selected(stage))
        continue;
      for (const auto& t : stage.targets) {
        StepReport sr{stage.name, t.name, "checked", "", "", std::nullopt};
        std::vector<std::string> parts;
        if (t.deploy.kind == DeployKind::Files) {
          for (const auto& [path, content] : file_contents(t.deploy, *bundle)) {
            auto current = read_file(path);
            const auto dir =
                path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
            if (::access(dir.c_str(), W_OK) != 0) {
              sr.state = "check-failed";
              parts.push_back("cannot write into " + dir.string());
            } else {
              parts.push_back(path.string() + (!current               ? " would be created"
                                               : *current == *content ? " unchanged"
                                                                      : " would change"));
            }
          }
          if (!t.deploy.reload.empty())
            parts.push_back("then reload: " + join(t.deploy.reload) + " (not run)");
        } else if (t.deploy.check_command.empty()) {
          parts.push_back("no check_command; deploy: " + join(t.deploy.command) + " (not run)");
        } else {
          CK_ASSIGN(const auto scratch, ScratchFiles::write(*bundle));
          std::string output;
          auto st =
              command(t.deploy.check_command, command_variables(*bundle, scratch_paths(scratch)),
                      t.deploy.timeout, "check", output);
          sr.output = output;
          if (!st) {
            sr.state = "check-failed";
            parts.push_back(st.error().message);
          } else {
            parts.push_back("check: " + join(t.deploy.check_command) + " passed");
          }
        }
        for (std::size_t k = 0; k < t.endpoints.size(); ++k, ++e) {
          const auto& ep = alignment.endpoints[e];
          const auto refusal = client_refusal(ep.probe, ep.verify_chain);
          parts.push_back(ep.probe.target.text + " serves " +
                          std::string(serving_name(ep.serving)) +
                          (!ep.probe.ok       ? " (" + ep.probe.error + ")"
                           : !refusal.empty() ? " (a client refuses it: " + refusal + ")"
                                              : ""));
        }
        for (const auto& p : parts)
          sr.detail += (sr.detail.empty() ? "" : "; ") + p;
        if (sr.state == "check-failed" && rep.failure.empty())
          rep.failure = stage.name + "/" + t.name + ": " + sr.detail;
        rep.steps.push_back(std::move(sr));
      }
    }
    for (const auto& h : plan.hooks)
      rep.notes.push_back("hook " + h.when + ": " + join(h.command) + " (not run)");
    if (!plan.pins.empty()) {
      CK_ASSIGN(const auto old_cert, load_previous_cert(plan, r.inventory_, cert.sha256));
      if (old_cert) {
        CK_ASSIGN(const auto new_cert, parse_cert(bundle->cert_pem, "the new certificate"));
        CK_ASSIGN(const auto edits, plan_pin_edits(plan, **old_cert, *new_cert));
        for (const auto& ed : edits) {
          rep.notes.push_back("pins: " + ed.path.string() + ": " +
                              (ed.replaced > 0 ? std::to_string(ed.replaced) + " to replace"
                               : ed.holds_new  ? "holds the new fingerprint already"
                                               : "holds neither fingerprint"));
        }
      }
    }
    return rep;
  }

  // Runs the after hooks, whatever the outcome, and reports the run.
  Report close() {
    const auto outcome = record.state;
    if (auto after = hooks("after", outcome); !after) {
      notes.push_back(after.error().message);
      if (failure.empty())
        failure = "the rollout is " + outcome + ", but " + after.error().message;
    }
    auto rep = finish_report(plan, record, steps);
    rep.failure = failure;
    rep.notes = notes;
    return rep;
  }

  bool selected(const Stage& s) const { return opts.stage.empty() || s.name == opts.stage; }

  bool all_verified() {
    for (const auto& s : plan.stages) {
      for (const auto& t : s.targets) {
        const auto st = step(t.name);
        if (!st || st->state != "verified")
          return false;
      }
    }
    return true;
  }

  Status rewrite_pins() {
    if (plan.pins.empty())
      return {};
    const auto before = step(kPinsStep);
    if (before && before->state == "verified")
      return {};
    CK_ASSIGN(const auto old_cert, load_previous_cert(plan, r.inventory_, cert.sha256));
    if (!old_cert) {
      note("pins: the plan names no previous certificate, so no old fingerprint to replace");
      return {};
    }
    CK_ASSIGN(const auto new_cert, load_plan_cert(plan, r.inventory_, cert.sha256));
    CK_ASSIGN(const auto edits, plan_pin_edits(plan, **old_cert, *new_cert));
    // A stopped earlier attempt kept the files as they were before any of
    // them changed: those stay the backup; files it had not reached join it.
    std::vector<FileState> states;
    if (before) {
      CK_ASSIGN(states, backup_of(*before));
    }
    const auto backed_up = [&](const std::filesystem::path& p) {
      return std::find_if(states.begin(), states.end(),
                          [&](const FileState& f) { return f.path == p; });
    };
    std::vector<std::filesystem::path> fresh;
    std::size_t to_write = 0;
    for (const auto& e : edits) {
      if (e.replaced > 0) {
        ++to_write;
        if (backed_up(e.path) == states.end())
          fresh.push_back(e.path);
      } else if (!e.holds_new) {
        note("pins: " + e.path.string() + " holds neither the old nor the new fingerprint");
      }
    }
    if (to_write == 0 && states.empty()) {
      note("pins: nothing to replace");
      return {};
    }
    CK_ASSIGN(auto captured, capture(fresh));
    for (auto& f : captured)
      states.push_back(std::move(f));
    // Pin files are whole config files (a monitrc holds mail and httpd
    // passwords): their backup is sealed like the targets'.
    store::RolloutStepRecord s;
    s.target = kPinsStep;
    s.state = "deploying";
    s.backup_sealed = r.passphrase_ != nullptr && !r.passphrase_->empty();
    CK_ASSIGN(s.backup, sealed(encode_backup(states), kPinsStep));
    // A replaced file is a new file owned by whoever runs certkeeper; only
    // root can give it back to another user, so that is checked before the
    // first write rather than found after it.
    for (const auto& e : edits) {
      const auto it = backed_up(e.path);
      if (e.replaced > 0 && ::geteuid() != 0 && it->uid != ::geteuid()) {
        return fail(Code::PermissionDenied,
                    "pins: '" + e.path.string() + "' belongs to uid " + std::to_string(it->uid) +
                        "; rewriting it would change its owner (run as root or as its owner)");
      }
    }
    CK_TRY(put(s));
    CK_FAULT_POINT("rollout.pins_backup");
    for (const auto& e : edits) {
      if (e.replaced == 0)
        continue;
      const auto was = backed_up(e.path);
      CK_TRY(write_file_atomic(e.path, e.after, was->mode, FileOwner{was->uid, was->gid}));
      CK_FAULT_POINT("rollout.mid_pins");
      note("pins: " + e.path.string() + ": " + std::to_string(e.replaced) + " fingerprint" +
           (e.replaced == 1 ? "" : "s") + " replaced");
    }
    // Every file this step rewrote, now or in a stopped earlier attempt, gets
    // its owner back (a crash could have come between a write and its chown).
    for (const auto& f : states) {
      if (f.existed)
        CK_TRY(give_back(f).map_error([](Error e) { return std::move(e).context("pins"); }));
    }
    s.state = "verified";
    s.detail = std::to_string(states.size()) + " file(s) rewritten";
    return put(s);
  }

  // After `done` is recorded: a key that cannot be wiped is reported, and
  // does not turn a complete, verified rollout into a failed one.
  std::vector<std::string> cleanup() {
    std::vector<std::string> problems;
    for (const auto& f : plan.cleanup) {
      auto removed = wipe_file(f);
      if (!removed) {
        problems.push_back(removed.error().message);
        note("cleanup: " + removed.error().message);
      } else {
        note("cleanup: " + f.string() + (*removed ? " overwritten and removed" : " was not there"));
      }
    }
    return problems;
  }

  // apply and resume: the selected stages in order, then, once every target
  // of the plan is verified, pins and cleanup.
  Status roll_forward() {
    for (const auto& stage : plan.stages) {
      if (!selected(stage))
        continue;
      say("stage " + stage.name);
      std::vector<const Target*> targets;
      for (const auto& t : stage.targets)
        targets.push_back(&t);
      CK_TRY(for_targets(stage, targets,
                         [this](const Stage& s, const Target& t) { return apply_target(s, t); }));
    }
    // A stage run on its own leaves the others as they were: a target that
    // failed earlier keeps the rollout failed.
    for (const auto& stage : plan.stages) {
      for (const auto& t : stage.targets) {
        if (const auto st = step(t.name);
            st && (st->state == "failed" || st->state == kReverifyFailed))
          return fail(Code::FailedPrecondition, stage.name + "/" + t.name + " is still " +
                                                    st->state + ": " +
                                                    st->detail.substr(0, st->detail.find('\n')));
      }
    }
    if (!all_verified())
      return set_state("partial", "", false);
    CK_TRY(rewrite_pins());
    CK_TRY(set_state("done", "", true));
    // Done but the key not yet wiped: `rollout apply` again wipes it.
    CK_FAULT_POINT("rollout.before_cleanup");
    const auto problems = cleanup();
    if (!problems.empty())
      failure = "the rollout is done, but cleanup failed: " + problems.front();
    return {};
  }

  // Whether this run deploys anything (else the key is not needed: it may
  // have been cleaned up after a complete rollout).
  bool deploys() {
    for (const auto& stage : plan.stages) {
      if (!selected(stage))
        continue;
      for (const auto& t : stage.targets) {
        if (!deployed_before(step(t.name)))
          return true;
      }
    }
    return false;
  }

  Status load_material() { return deploys() ? load_certificate_and_key() : Status(); }

  Status load_certificate_and_key() {
    CK_ASSIGN(auto b, load_bundle(plan, r.inventory_, cert.sha256, r.clock_.now_seconds()));
    add_secrets(b);
    bundle = std::move(b);
    return {};
  }

  // --stage NAME only after every earlier stage is verified: canary first.
  Status earlier_stages_verified() {
    if (opts.stage.empty())
      return {};
    for (const auto& stage : plan.stages) {
      if (stage.name == opts.stage)
        return {};
      for (const auto& t : stage.targets) {
        const auto st = step(t.name);
        if (!st || st->state != "verified") {
          return fail(Code::FailedPrecondition,
                      "stage " + stage.name + " comes before " + opts.stage + " and " + t.name +
                          " is not verified; run `certkeeper rollout apply " + plan.file.string() +
                          " --stage " + stage.name + "` first");
        }
      }
    }
    return {};
  }
};

namespace {

Result<std::optional<FileLock>> lock_plan(const std::filesystem::path& dir, const Plan& plan) {
  CK_ASSIGN(auto lock, FileLock::try_acquire(dir / lock_name(plan_key(plan))));
  if (!lock) {
    return fail(Code::Unavailable, "another certkeeper is running a rollout of '" +
                                       plan.file.string() + "'; wait for it to finish");
  }
  return lock;
}

}  // namespace

Result<std::optional<store::RolloutRecord>> Runner::last_rollout(const Plan& plan) {
  CK_ASSIGN(auto tx, store_.read());
  return tx->last_rollout(plan_key(plan));
}

Result<Report> Runner::status(const Plan& plan) {
  CK_ASSIGN(const auto last, last_rollout(plan));
  if (!last) {
    Report rep;
    rep.plan = plan.file.string();
    rep.state = "none";
    for (const auto& s : plan.stages) {
      for (const auto& t : s.targets)
        rep.steps.push_back({s.name, t.name, "pending", "", "", std::nullopt});
    }
    return rep;
  }
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(const auto rows, tx->rollout_steps(last->id));
  std::map<std::string, store::RolloutStepRecord> steps;
  for (const auto& r : rows)
    steps[r.target] = r;
  auto rep = finish_report(plan, *last, steps);
  if (const auto it = steps.find(kPinsStep); it != steps.end())
    rep.notes.push_back("pins: " + it->second.state + " " + it->second.detail);
  if (last->state == "running" || last->state == "rolling-back")
    rep.failure = "interrupted while " + last->state + " (a crash, or still running)";
  return rep;
}

Result<Report> Runner::apply(const Plan& plan, const RunOptions& options) {
  CK_TRY(preflight(plan, options.stage, options.probe, clock_));
  CK_ASSIGN(const auto cert, resolve_certificate(plan, &inventory_));
  Run run(*this, plan, options);
  run.cert = cert;

  if (options.check)
    return run.check();

  CK_ASSIGN(const auto lock, lock_plan(lock_dir_, plan));
  CK_ASSIGN(const auto last, last_rollout(plan));
  const bool unfinished = last && last->state != "done" && last->state != "rolled-back";
  if (unfinished && (last->state == "rollback-failed" || last->state == "rolling-back")) {
    return fail(Code::FailedPrecondition, "rollout " + std::to_string(last->id) + " of '" +
                                              plan.file.string() + "' was being rolled back (" +
                                              last->state + "); run `certkeeper rollout rollback " +
                                              plan.file.string() + "` again");
  }
  if (unfinished && last->state != "partial") {
    return fail(Code::FailedPrecondition,
                "rollout " + std::to_string(last->id) + " of '" + plan.file.string() +
                    "' stopped (" + last->state +
                    (last->detail.empty() ? "" : ": " + last->detail) +
                    "); run `certkeeper rollout resume " + plan.file.string() +
                    "` or `certkeeper rollout rollback " + plan.file.string() + "`");
  }
  if (unfinished && last->cert_sha256 != cert.sha256) {
    return fail(Code::FailedPrecondition, "rollout " + std::to_string(last->id) +
                                              " of another certificate (sha256 " +
                                              short_fp(last->cert_sha256) +
                                              "…) is half done; roll it back first (`certkeeper "
                                              "rollout rollback " +
                                              plan.file.string() + "`), then apply the new one");
  }
  const bool continuing = last && (last->state == "partial" || last->state == "done") &&
                          last->cert_sha256 == cert.sha256;
  if (continuing) {
    run.record = *last;
    CK_TRY(run.load_steps());
  }
  CK_TRY(run.earlier_stages_verified());
  CK_TRY(run.load_material());
  CK_TRY(run.hooks("before", "started"));
  if (continuing) {
    CK_TRY(run.set_state("running", "", false));
  } else {
    run.record.plan = plan_key(plan);
    run.record.cert_source = cert.describe;
    run.record.cert_sha256 = cert.sha256;
    run.record.previous_sha256 = cert.previous_sha256;
    run.record.state = "running";
    run.record.started_at = clock_.now_seconds();
    CK_ASSIGN(auto tx, store_.write());
    CK_ASSIGN(run.record.id, tx->insert_rollout(run.record));
    CK_TRY(tx->commit());
    CK_FAULT_POINT("rollout.after_journal");
  }
  return finish(run);
}

Result<Report> Runner::resume(const Plan& plan, const RunOptions& options) {
  CK_TRY(preflight(plan, options.stage, options.probe, clock_));
  CK_ASSIGN(const auto cert, resolve_certificate(plan, &inventory_));
  CK_ASSIGN(const auto lock, lock_plan(lock_dir_, plan));
  CK_ASSIGN(const auto last, last_rollout(plan));
  if (!last)
    return fail(Code::FailedPrecondition, "no rollout of '" + plan.file.string() + "' to resume");
  if (last->state == "done" || last->state == "rolled-back") {
    return fail(Code::FailedPrecondition, "rollout " + std::to_string(last->id) + " of '" +
                                              plan.file.string() + "' is " + last->state +
                                              "; nothing to resume");
  }
  if (last->state == "rollback-failed" || last->state == "rolling-back") {
    return fail(Code::FailedPrecondition, "rollout " + std::to_string(last->id) +
                                              " was being rolled back; run `certkeeper "
                                              "rollout rollback " +
                                              plan.file.string() + "` again");
  }
  if (last->cert_sha256 != cert.sha256) {
    return fail(Code::FailedPrecondition, "the plan's certificate changed since rollout " +
                                              std::to_string(last->id) + " began (sha256 " +
                                              short_fp(last->cert_sha256) + "… then, " +
                                              short_fp(cert.sha256) + "… now); roll it back first");
  }
  Run run(*this, plan, options);
  run.cert = cert;
  run.record = *last;
  CK_TRY(run.load_steps());
  CK_TRY(run.earlier_stages_verified());
  CK_TRY(run.load_material());
  CK_TRY(run.hooks("before", "started"));
  CK_TRY(run.set_state("running", "", false));
  return finish(run);
}

Result<Report> Runner::finish(Run& run) {
  auto forward = run.roll_forward();
  if (!forward) {
    run.failure = forward.error().message;
    (void)run.set_state("failed", run.failure, true);
  }
  return run.close();
}

Result<Report> Runner::rollback(const Plan& plan, const RunOptions& options) {
  CK_TRY(preflight(plan, "", options.probe, clock_));
  CK_ASSIGN(const auto cert, resolve_certificate(plan, &inventory_));
  CK_ASSIGN(const auto lock, lock_plan(lock_dir_, plan));
  CK_ASSIGN(const auto last, last_rollout(plan));
  if (!last)
    return fail(Code::FailedPrecondition,
                "no rollout of '" + plan.file.string() + "' to roll back");
  if (last->state == "rolled-back") {
    return fail(Code::FailedPrecondition, "rollout " + std::to_string(last->id) + " of '" +
                                              plan.file.string() + "' was rolled back already");
  }
  Run run(*this, plan, options);
  run.cert = cert;
  run.cert.sha256 = last->cert_sha256;  // what the journal deployed, whatever the plan says now
  run.cert.previous_sha256 = last->previous_sha256;
  run.record = *last;
  CK_TRY(run.load_steps());

  // Every touched row must still be a target of the plan: a target renamed
  // or removed since would otherwise keep the new certificate unnoticed.
  for (const auto& [name, st] : run.steps) {
    if (name == kPinsStep || !touched(st.state))
      continue;
    const bool known = std::any_of(plan.stages.begin(), plan.stages.end(), [&](const Stage& s) {
      return std::any_of(s.targets.begin(), s.targets.end(),
                         [&](const Target& t) { return t.name == name; });
    });
    if (!known) {
      return fail(Code::FailedPrecondition,
                  "rollout " + std::to_string(last->id) + " deployed to target \"" + name +
                      "\", which '" + plan.file.string() +
                      "' no longer has; put it back in the plan to roll it back");
    }
  }
  // What goes back on command targets: checked before anything is touched.
  std::vector<std::pair<const Stage*, const Target*>> todo;
  for (auto s = plan.stages.rbegin(); s != plan.stages.rend(); ++s) {
    for (auto t = s->targets.rbegin(); t != s->targets.rend(); ++t) {
      const auto st = run.step(t->name);
      if (st && touched(st->state))
        todo.emplace_back(&*s, &*t);
    }
  }
  const bool needs_previous = std::any_of(todo.begin(), todo.end(), [](const auto& p) {
    return p.second->deploy.kind == DeployKind::Command;
  });
  if (needs_previous) {
    CK_ASSIGN(run.previous, load_previous_bundle(plan, inventory_, last->cert_sha256));
    if (run.previous)
      run.add_secrets(*run.previous);
    for (const auto& [s, t] : todo) {
      if (t->deploy.kind == DeployKind::Command && !run.previous &&
          t->deploy.rollback_command.empty()) {
        return fail(Code::FailedPrecondition,
                    plan_line(plan, t->line) + ": " + t->name +
                        " has no rollback_command and the plan names no previous certificate "
                        "(previous_cert_file and previous_key_file) to deploy instead");
      }
    }
  }
  CK_TRY(run.hooks("before", "rolling-back"));
  CK_TRY(run.set_state("rolling-back", "", false));

  const auto roll_back_target = [&](const Stage& stage, const Target& t) -> Status {
    const auto st = *run.step(t.name);
    const std::string where = stage.name + "/" + t.name;
    run.say(where + ": rolling back");
    // The previous certificate when known; else anything but the new one.
    Expect expect{last->previous_sha256, last->cert_sha256, "the previous certificate"};
    std::string output;
    Status done;
    if (t.deploy.kind == DeployKind::Files) {
      auto states = run.backup_of(st);
      if (!states) {
        done = fail(states.error());
      } else {
        // The certificate the files held before is what must be served again.
        for (const auto& f : *states) {
          if (!f.existed || (t.deploy.cert != f.path && t.deploy.fullchain != f.path))
            continue;
          if (auto c = parse_cert(f.bytes, f.path.string())) {
            if (auto fp = fingerprint(**c, DigestKind::Sha256, FingerprintFormat::Hex))
              expect.sha256 = *fp;
          }
          break;
        }
        done = restore(*states);
        if (done && !t.deploy.reload.empty()) {
          done = run.command(t.deploy.reload,
                             command_variables(CertBundle{}, deployed_paths(t.deploy)),
                             t.deploy.timeout, "reload", output);
        }
      }
    } else {
      std::optional<ScratchFiles> scratch;
      notify::Variables vars{{"name", plan.certificate.name}};
      if (run.previous) {
        auto files = ScratchFiles::write(*run.previous);
        if (!files)
          return fail(files.error());
        scratch.emplace(std::move(*files));
        vars = command_variables(*run.previous, scratch_paths(*scratch));
      }
      const auto& argv =
          t.deploy.rollback_command.empty() ? t.deploy.command : t.deploy.rollback_command;
      done = run.command(argv, vars, t.deploy.timeout, "rollback", output);
    }
    if (done)
      done = run.verify(t, expect);
    // Put back but not yet marked: the next rollback puts it back again.
    CK_FAULT_POINT("rollout.rollback_before_mark");
    if (!done) {
      CK_TRY(run.mark(stage, t, "rollback-failed", step_detail(done.error().message, output)));
      return fail(done.error().code, where + ": " + done.error().message);
    }
    CK_TRY(run.mark(stage, t, "rolled-back", step_detail("rolled back", output)));
    CK_FAULT_POINT("rollout.rollback_after_mark");
    run.say(where + ": rolled back");
    return {};
  };

  Status result;
  for (const auto& [s, t] : todo) {
    result = roll_back_target(*s, *t);
    if (!result)
      break;
  }
  if (result) {
    if (const auto pins = run.step(kPinsStep); pins && pins->state != "rolled-back") {
      auto states = run.backup_of(*pins);
      result = states ? restore(*states) : fail(states.error());
      CK_FAULT_POINT("rollout.rollback_pins");
      if (result) {
        auto s = *pins;
        s.state = "rolled-back";
        result = run.put(s);
        run.note("pins: " + std::to_string(states->size()) + " file(s) put back");
      }
    }
  }
  if (result) {
    (void)run.set_state("rolled-back", "", true);
  } else {
    run.failure = result.error().message;
    (void)run.set_state("rollback-failed", run.failure, true);
  }
  return run.close();
}

}  // namespace ck::rollout
