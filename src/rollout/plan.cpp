#include "rollout/plan.h"

#include <algorithm>
#include <set>

#include "core/file_io.h"
#include "core/toml_section.h"

namespace ck::rollout {
namespace {

using std::filesystem::path;

int line_of(const TomlSection& s, const char* key = nullptr) {
  // where() is "'FILE' line N"; the number is what the structs keep.
  const std::string w = s.where(key);
  const auto pos = w.rfind(' ');
  return pos == std::string::npos ? 0 : std::atoi(w.c_str() + pos + 1);
}

Result<std::vector<std::string>> argv(const TomlSection& s, const char* key, bool required) {
  CK_ASSIGN(auto value, s.string_array(key));
  if (!value) {
    if (required)
      return fail(s.wrong(
          key, "is missing (an argv array such as [\"systemctl\", \"reload\", \"nginx\"])"));
    return std::vector<std::string>();
  }
  return std::move(*value);
}

Result<CertificateSource> load_certificate(const TomlSection& root, const path& file) {
  CK_ASSIGN(const auto s, root.table("certificate", {"name", "cert_file", "key_file", "chain_file",
                                                     "previous_cert_file", "previous_key_file",
                                                     "previous_chain_file", "ca_file"}));
  if (!s.present()) {
    return fail(Code::InvalidArgument,
                "'" + file.string() +
                    "': no [certificate] (name = \"STORED NAME\", or cert_file and key_file)");
  }
  CertificateSource c;
  c.line = line_of(s);
  CK_ASSIGN(auto name, s.string("name"));
  CK_ASSIGN(c.cert_file, s.path("cert_file"));
  CK_ASSIGN(c.key_file, s.path("key_file"));
  CK_ASSIGN(c.chain_file, s.path("chain_file"));
  CK_ASSIGN(c.previous_cert_file, s.path("previous_cert_file"));
  CK_ASSIGN(c.previous_key_file, s.path("previous_key_file"));
  CK_ASSIGN(c.previous_chain_file, s.path("previous_chain_file"));
  CK_ASSIGN(c.ca_file, s.path("ca_file"));
  c.ca_file_line = line_of(s, "ca_file");
  if (name)
    c.name = *name;
  if (c.name.empty() == !c.cert_file.has_value()) {
    return fail(Code::InvalidArgument,
                s.where() +
                    ": [certificate] needs either name (a stored certificate) or "
                    "cert_file, not " +
                    (c.name.empty() ? "neither" : "both"));
  }
  if (!c.name.empty() && (c.key_file || c.chain_file || c.previous_cert_file ||
                          c.previous_key_file || c.previous_chain_file)) {
    return fail(Code::InvalidArgument,
                s.where() + ": [certificate] name = \"" + c.name +
                    "\" is a stored certificate: its key, chain and previous version come from "
                    "the store (drop the *_file keys)");
  }
  return c;
}

Result<std::optional<unsigned>> file_mode(const TomlSection& s, const char* key) {
  CK_ASSIGN(const auto mode, s.string(key));
  if (!mode)
    return std::optional<unsigned>();
  char* end = nullptr;
  const unsigned long m = std::strtoul(mode->c_str(), &end, 8);
  if (mode->empty() || *end != '\0' || m > 07777)
    return fail(s.wrong(key, "an octal file mode such as \"0600\""));
  return std::optional<unsigned>(static_cast<unsigned>(m));
}

Result<Deploy> load_deploy(const TomlSection& target) {
  CK_ASSIGN(const auto s,
            target.table("deploy", {"kind", "cert", "key", "chain", "fullchain", "mode", "key_mode",
                                    "owner", "group", "reload", "timeout", "command",
                                    "check_command", "rollback_command"}));
  if (!s.present())
    return fail(target.wrong("deploy", "is missing ([stage.target.deploy] with kind = ...)"));
  Deploy d;
  CK_ASSIGN(const auto kind, s.choice("kind", {"files", "command"}));
  if (!kind)
    return fail(s.wrong("kind", "is missing (\"files\" or \"command\")"));
  d.kind = *kind == "files" ? DeployKind::Files : DeployKind::Command;
  CK_ASSIGN(auto timeout, s.duration("timeout"));
  if (timeout)
    d.timeout = *timeout;
  const std::set<std::string> file_keys = {"cert",     "key",   "chain", "fullchain", "mode",
                                           "key_mode", "owner", "group", "reload"};
  const std::set<std::string> command_keys = {"command", "check_command", "rollback_command"};
  const auto& foreign = d.kind == DeployKind::Files ? command_keys : file_keys;
  for (const auto& key : foreign) {
    if (s.has(key.c_str())) {
      return fail(Code::InvalidArgument, s.where(key.c_str()) + ": '" + s.prefix() + key +
                                             "' does not belong to kind = \"" + *kind + "\"");
    }
  }
  if (d.kind == DeployKind::Files) {
    CK_ASSIGN(d.cert, s.path("cert"));
    CK_ASSIGN(d.key, s.path("key"));
    CK_ASSIGN(d.chain, s.path("chain"));
    CK_ASSIGN(d.fullchain, s.path("fullchain"));
    if (!d.cert && !d.key && !d.chain && !d.fullchain) {
      return fail(
          Code::InvalidArgument,
          s.where() + ": kind = \"files\" needs at least one of cert, key, chain, fullchain");
    }
    CK_ASSIGN(const auto mode, file_mode(s, "mode"));
    d.mode = mode.value_or(d.mode);
    // Keys are 0600 unless the plan says otherwise; 0640 at most, for a
    // service that reads its key through its group (ssl-cert).
    CK_ASSIGN(const auto key_mode, file_mode(s, "key_mode"));
    d.key_mode = key_mode.value_or(0600);
    if ((d.key_mode & ~0640U) != 0)
      return fail(s.wrong("key_mode", "0600, 0640, 0400 or 0440 (at most 0640)"));
    CK_ASSIGN(auto owner, s.string("owner"));
    CK_ASSIGN(auto group, s.string("group"));
    d.owner = owner.value_or("");
    d.group = group.value_or("");
    CK_ASSIGN(d.reload, argv(s, "reload", false));
  } else {
    CK_ASSIGN(d.command, argv(s, "command", true));
    CK_ASSIGN(d.check_command, argv(s, "check_command", false));
    CK_ASSIGN(d.rollback_command, argv(s, "rollback_command", false));
  }
  return d;
}

}  // namespace

Result<probe::Target> parse_endpoint(std::string_view text) {
  std::string_view hostport = text.substr(0, text.find('@'));
  const bool has_port = hostport.starts_with('[')
                            ? hostport.find("]:") != std::string_view::npos
                            : std::count(hostport.begin(), hostport.end(), ':') == 1;
  if (!has_port || text.find("://") != std::string_view::npos) {
    return fail(Code::InvalidArgument,
                "endpoint '" + std::string(text) + "' needs a port (host:port or host:port@sni)");
  }
  return probe::parse_target(text, 443);
}

const char* to_string(HookWhen when) {
  return when == HookWhen::Before ? "before" : "after";
}

Result<HookWhen> parse_hook_when(std::string_view text) {
  if (text == to_string(HookWhen::Before))
    return HookWhen::Before;
  if (text == to_string(HookWhen::After))
    return HookWhen::After;
  return fail(Code::InvalidArgument,
              "unknown hook time \"" + std::string(text) + "\" (\"before\" or \"after\")");
}

Result<Plan> load_plan(const path& file) {
  CK_ASSIGN(const auto text, read_file(file, kTomlInput));
  CK_ASSIGN(const auto doc, parse_toml_file(file, text));
  CK_TRY(check_toml_keys(file, doc, "", {"certificate", "hook", "pin", "cleanup", "stage"}));
  const TomlSection root(file, &doc, "");
  Plan plan;
  plan.file = file;
  CK_ASSIGN(plan.certificate, load_certificate(root, file));

  CK_ASSIGN(const auto hooks, root.table_array("hook", {"when", "command", "timeout"}));
  for (const auto& h : hooks) {
    Hook hook;
    hook.line = line_of(h);
    CK_ASSIGN(const auto when,
              h.choice("when", {to_string(HookWhen::Before), to_string(HookWhen::After)}));
    if (!when)
      return fail(h.wrong("when", "is missing (\"before\" or \"after\")"));
    CK_ASSIGN(hook.when, parse_hook_when(*when));
    CK_ASSIGN(hook.command, argv(h, "command", true));
    CK_ASSIGN(auto timeout, h.duration("timeout"));
    if (timeout)
      hook.timeout = *timeout;
    plan.hooks.push_back(std::move(hook));
  }

  CK_ASSIGN(const auto pins, root.table_array("pin", {"paths", "algorithm", "format"}));
  for (const auto& p : pins) {
    Pin pin;
    pin.line = line_of(p);
    CK_ASSIGN(auto paths, p.string_array("paths"));
    if (!paths)
      return fail(p.wrong("paths", "is missing (globs of files that pin the fingerprint)"));
    pin.paths = std::move(*paths);
    CK_ASSIGN(const auto algorithm, p.choice("algorithm", {"md5", "sha1", "sha256"}));
    if (algorithm) {
      CK_ASSIGN(pin.algorithm, parse_digest_kind(*algorithm));
    }
    CK_ASSIGN(const auto format, p.choice("format", {"colon", "hex", "HEX"}));
    if (format) {
      CK_ASSIGN(pin.format, parse_fingerprint_format(*format));
    }
    plan.pins.push_back(std::move(pin));
  }

  CK_ASSIGN(const auto cleanup, root.table("cleanup", {"files"}));
  CK_ASSIGN(const auto files, cleanup.string_array("files"));
  for (const auto& f : files.value_or(std::vector<std::string>())) {
    const path p(f);
    plan.cleanup.push_back(p.is_relative() ? file.parent_path() / p : p);
  }

  CK_ASSIGN(const auto stages, root.table_array("stage", {"name", "parallel", "target"}));
  if (stages.empty())
    return fail(Code::InvalidArgument, "'" + file.string() + "': no [[stage]]");
  std::set<std::string> stage_names;
  std::set<std::string> target_names;
  for (const auto& s : stages) {
    Stage stage;
    stage.line = line_of(s);
    CK_ASSIGN(const auto name, s.string("name"));
    if (!name || name->empty())
      return fail(s.wrong("name", "is missing"));
    stage.name = *name;
    if (!stage_names.insert(stage.name).second)
      return fail(s.wrong("name", "\"" + stage.name + "\" is used by an earlier stage"));
    CK_ASSIGN(const auto parallel, s.positive_integer("parallel"));
    stage.parallel = static_cast<int>(std::min<std::int64_t>(parallel.value_or(1), 256));
    CK_ASSIGN(const auto targets, s.table_array("target", {"name", "endpoints", "verify_timeout",
                                                           "verify_chain", "deploy"}));
    if (targets.empty()) {
      return fail(Code::InvalidArgument,
                  s.where() + ": stage \"" + stage.name + "\" has no [[stage.target]]");
    }
    for (const auto& t : targets) {
      Target target;
      target.line = line_of(t);
      CK_ASSIGN(const auto tname, t.string("name"));
      if (!tname || tname->empty())
        return fail(t.wrong("name", "is missing"));
      target.name = *tname;
      if (target.name.starts_with('#'))  // "#pins" is the journal's own row
        return fail(
            t.wrong("name", "a name that does not start with '#' (the journal's own rows do)"));
      if (!target_names.insert(target.name).second)
        return fail(t.wrong("name", "\"" + target.name + "\" is used by an earlier target"));
      CK_ASSIGN(const auto endpoints, t.string_array("endpoints"));
      if (!endpoints)
        return fail(t.wrong("endpoints", "is missing ([\"host:port\", \"host:port@sni\"])"));
      for (const auto& e : *endpoints) {
        auto ep = parse_endpoint(e);
        if (!ep)
          return fail(Code::InvalidArgument, t.where("endpoints") + ": " + ep.error().message);
        target.endpoints.push_back(std::move(*ep));
      }
      CK_ASSIGN(const auto verify_timeout, t.duration("verify_timeout"));
      if (verify_timeout)
        target.verify_timeout = *verify_timeout;
      CK_ASSIGN(const auto verify_chain, t.boolean("verify_chain"));
      target.verify_chain = verify_chain.value_or(true);
      CK_ASSIGN(target.deploy, load_deploy(t));
      stage.targets.push_back(std::move(target));
    }
    plan.stages.push_back(std::move(stage));
  }
  return plan;
}

Status check_stage(const Plan& plan, const std::string& stage) {
  if (stage.empty() || std::any_of(plan.stages.begin(), plan.stages.end(),
                                   [&](const Stage& s) { return s.name == stage; })) {
    return {};
  }
  return fail(Code::InvalidArgument, "'" + plan.file.string() + "' has no stage \"" + stage + "\"");
}

}  // namespace ck::rollout
