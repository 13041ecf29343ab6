#include <iostream>

#include "ca/crl_publish.h"
#include "cli/commands.h"
#include "cli/crl_enforcement.h"
#include "cli/render.h"
#include "core/duration.h"

namespace ck::cli {
namespace {

struct BuildFlags {
  std::string out;
  bool der = false;
  bool if_due = false;
  std::string before = "2d";
  bool dry_run = false;
};

// The build's --json object with every new entry: the entries are streamed
// one compact element per line (a mass revocation lists 100,000), the rest
// is a small object printed first.
void print_build_json(Runtime& rt, nlohmann::json head, const std::vector<ca::CrlAddition>& added) {
  std::string text = head.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  text.pop_back();  // the closing brace; "added" follows as the last member
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  std::cout << text << ",\n  \"added\": ";
  JsonArrayWriter writer(rt);
  for (const auto& a : added) {
    writer.add(
        {{"serial", a.serial_hex}, {"user", a.user}, {"reason", a.reason}, {"ticket", a.ticket}});
  }
  writer.finish();
  std::cout << "}\n";
}

// Lines 0..kShown-1 of a listing, then how many more there are.
constexpr std::size_t kShown = 20;
template <class Line>
void print_some(std::size_t count, std::string_view what, Line line) {
  std::string text;
  for (std::size_t i = 0; i < count && i < kShown; ++i) {
    text += line(i);
    text += '\n';
  }
  if (count > kShown) {
    text += "  ... and " + std::to_string(count - kShown) + " more " + std::string(what) +
            " (`--json` lists them all)\n";
  }
  std::cout << text;
}

// What a dry run found; the same lists a build prints.
void print_additions(const ca::CrlBuilt& built, std::string_view verb);

void print_dry_run(const ca::CrlBuilt& built, const ca::CrlRequest& req) {
  if (built.republished) {
    std::cout << "dry run: CRL #" << built.number
              << " is unchanged, but its publish had not gone through: it would be handed to "
                 "the [crl] publish_command again (nothing done)\n";
    return;
  }
  if (!built.built) {
    std::cout << "dry run: not due: CRL #" << built.number << " is unchanged and good until "
              << iso(built.next_update) << " (nothing done)\n";
    return;
  }
  std::cout << "dry run: would build CRL #" << built.number << " with " << built.entries
            << (built.entries == 1 ? " entry" : " entries") << " (" << built.canaries
            << (built.canaries == 1 ? " canary" : " canaries") << "), next update "
            << iso(built.next_update) << " (nothing recorded, written or published)\n";
  if (built.path)
    std::cout << "  would write " << built.path->string() << "\n";
  if (req.publish)
    std::cout << "  would run the [crl] publish_command\n";
  print_additions(built, "would ");
}

Exit run_build(Runtime& rt, const BuildFlags& f) {
  ca::CrlRequest req;
  req.der = f.der;
  req.if_due = f.if_due;
  req.dry_run = f.dry_run;
  CK_ASSIGN(req.due_before, flag_duration(f.before, "--before"));
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto* cfg, rt.config());
  req.out = !f.out.empty() ? std::filesystem::path(f.out)
            : cfg->crl_out ? *cfg->crl_out
                           : rt.home() / (f.der ? "ca.crl.der" : "ca.crl");
  CK_ASSIGN(req.publish, rt.crl_publisher());
  if (!rt.json())
    req.list_added = kShown;
  // [crl] check_endpoints are read before anything is built: a typo is an
  // error with the store unchanged.
  std::vector<probe::Target> check_targets;
  for (const auto& text : cfg->crl_check_endpoints) {
    auto t = probe::parse_target(text, 443);
    if (!t)
      return fail(std::move(t).error().context("[crl] check_endpoints"));
    check_targets.push_back(std::move(*t));
  }
  CK_ASSIGN(const auto built, auth->build_crl(req));
  // A CRL that went out (built and published, or published again) is
  // checked where it should now be enforced.
  std::optional<EnforcementRun> enforced;
  // A check that cannot run is reported after what was built and published,
  // never instead of it: the CRL is out either way.
  std::optional<Error> check_error;
  const bool went_out =
      !built.dry_run && ((built.built && !built.superseded_by) || built.republished);
  if (!check_targets.empty() && went_out && built.publish_error.empty()) {
    probe::ProbeOptions options;
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg->crl_check_timeout);
    options.threads = available_cores();
    auto run = observe_enforcement(rt, check_targets, options, 4, false);
    if (run)
      enforced = std::move(*run);
    else
      check_error = std::move(run.error());
  }
  if (rt.json()) {
    nlohmann::json j{{"built", built.built},
                     {"number", built.number},
                     {"this_update", iso(built.this_update)},
                     {"next_update", iso(built.next_update)},
                     {"entries", built.entries},
                     {"canaries", built.canaries},
                     {"canary_serial", built.canary_serial_hex},
                     {"path", built.path ? built.path->string() : ""},
                     {"format", f.der ? "der" : "pem"},
                     {"removed", built.removed_hex},
                     {"dropped", built.dropped_hex}};
    j["republished"] = built.republished;
    j["dry_run"] = built.dry_run;
    j["superseded_by"] =
        built.superseded_by ? nlohmann::json(*built.superseded_by) : nlohmann::json(nullptr);
    j["publish"] = store::to_string(built.publish);
    if (!built.publish_error.empty())
      j["publish_error"] = built.publish_error;
    j["enforcement"] = enforced ? enforcement_json(*enforced) : nlohmann::json(nullptr);
    if (check_error)
      j["enforcement_error"] = check_error->message;
    print_build_json(rt, std::move(j), built.added);
  } else if (built.dry_run) {
    print_dry_run(built, req);
    return kExitOk;
  } else if (built.republished || rt.quiet()) {
    // Said by one line below once it worked; by the error line if it did not.
  } else if (!built.built) {
    std::cout << "not due: CRL #" << built.number << " is unchanged and good until "
              << iso(built.next_update) << "\n";
  } else {
    std::cout << "CRL #" << built.number << " with " << built.entries
              << (built.entries == 1 ? " entry" : " entries") << " (" << built.canaries
              << (built.canaries == 1 ? " canary" : " canaries")
              << ", see `crl check`), next update " << iso(built.next_update) << "\n";
    if (built.path)
      std::cout << "  written to " << built.path->string() << "\n";
    if (built.superseded_by) {
      std::cout << "  not written: " << req.out->string() << " already holds the newer CRL #"
                << *built.superseded_by
                << " (a build that started later finished first); not published\n";
    }
    print_additions(built, "");
  }
  if (!built.publish_error.empty()) {
    return fail(Code::Unavailable, "CRL #" + std::to_string(built.number) +
                                       " is built and written to " +
                                       (built.path ? built.path->string() : std::string("?")) +
                                       ", but publishing failed: " + built.publish_error +
                                       " (`certkeeper crl build --if-due` publishes it again)");
  }
  if (!rt.json() && !rt.quiet() && built.publish == store::PublishState::Ok) {
    std::cout << "published CRL #" << built.number
              << (built.republished ? " again (unchanged; its earlier publish had not gone through)"
                                    : "")
              << " ([crl] publish_command exited 0)\n";
  }
  if (enforced && !rt.json()) {
    if (!rt.quiet()) {
      std::cout << (built.publish == store::PublishState::Ok ? "published and enforced on "
                                                             : "enforced on ")
                << enforced->on_newest << "/" << enforced->reports.size() << " endpoint(s)\n";
    }
    for (const auto& r : enforced->reports) {
      if (r.crl.state != enforce::Enforcement::Newest)
        std::cout << "  not enforced: " << r.target.text << " " << enforcement_text(r.crl) << ": "
                  << r.crl.detail << "\n";
    }
  }
  if (check_error) {
    return fail(check_error->code,
                "CRL #" + std::to_string(built.number) +
                    " went out, but [crl] check_endpoints could not run: " + check_error->message);
  }
  // Built and out, but not (yet) enforced everywhere: a problem to act on.
  return enforced && !enforced->all_newest() ? kExitProblems : kExitOk;
}

// A person reads these lines: a mass revocation is summarised after the
// first ones, `--json` lists every entry. `verb` is "would " in a dry run.
void print_additions(const ca::CrlBuilt& built, std::string_view verb) {
  const std::string dropped = verb.empty() ? "dropped" : std::string(verb) + "drop";
  print_some(built.added_count, "new entries", [&](std::size_t i) {
    const auto& a = built.added[i];
    return "  new: " + a.serial_hex + " " + a.user + " (" + a.reason + ")" +
           (a.ticket.empty() ? "" : " " + a.ticket);
  });
  print_some(built.removed_hex.size(), "removed entries", [&](std::size_t i) {
    return "  removed: " + built.removed_hex[i] + " (expired and listed once after its notAfter)";
  });
  print_some(built.dropped_hex.size(), "dropped held revocations", [&](std::size_t i) {
    return "  " + dropped + " held revocation of " + built.dropped_hex[i] +
           " (expired before the user confirmed: never needs an entry)";
  });
}

struct StatusFlags {
  bool fail_if_stale = false;
  std::string before = "2d";
};

std::string publish_text(const ca::CrlStatusView& st) {
  if (!st.publish)
    return "not known to be published (the run stopped first, or an earlier certkeeper built it)";
  switch (*st.publish) {
    case store::PublishState::Ok:
      return "published at " + iso(*st.published_at);
    case store::PublishState::Failed:
      return "publish FAILED at " + iso(*st.published_at) + ": " + st.publish_error;
    case store::PublishState::None:
      return "built without a [crl] publish_command (written only)";
  }
  return "";
}

Exit run_status(Runtime& rt, const StatusFlags& f) {
  CK_ASSIGN(const auto before, flag_duration(f.before, "--before"));
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto* cfg, rt.config());
  CK_ASSIGN(auto st, auth->crl_status(before, !cfg->crl_publish_command.empty()));
  if (cfg->crl_max_size) {
    const auto file = cfg->crl_out ? *cfg->crl_out : rt.home() / "ca.crl";
    if (auto too_big = ca::crl_size_warning(file, *cfg->crl_max_size))
      st.warnings.push_back(std::move(*too_big));
  }
  for (const auto& w : st.warnings)
    rt.warn(w);
  const int code = f.fail_if_stale && !st.stale.empty() ? kExitProblems : kExitOk;
  if (rt.json()) {
    nlohmann::json j;
    j["last_crl"] = nullptr;
    if (st.last_number) {
      j["last_crl"] = {
          {"number", *st.last_number},
          {"this_update", iso(*st.this_update)},
          {"next_update", iso(*st.next_update)},
          {"entries", st.last_entries},
          {"file", st.file_path},
          {"publish", st.publish ? nlohmann::json(store::to_string(*st.publish)) : nullptr},
          {"published_at", st.published_at ? nlohmann::json(iso(*st.published_at)) : nullptr},
          {"publish_error", st.publish_error}};
    }
    j["released_since_last"] = st.released_since_last;
    j["warnings"] = st.warnings;
    j["stale"] = st.stale;
    j["held"] = nlohmann::json::array();
    for (const auto& h : st.held) {
      j["held"].push_back({{"user", h.user},
                           {"serial", h.serial_hex},
                           {"since", iso(h.since)},
                           {"not_after", iso(h.not_after)},
                           {"ticket", h.ticket},
                           {"replacement", h.replacement_hex.value_or("")},
                           {"release_when", h.release_when}});
    }
    rt.print_json(j);
    return code;
  }
  if (st.last_number) {
    std::cout << "last CRL: #" << *st.last_number << ", " << st.last_entries
              << " entries, this update " << iso(*st.this_update) << ", next update "
              << iso(*st.next_update) << "\n"
              << "  " << publish_text(st) << "\n";
  } else {
    std::cout << "no CRL built yet (run `certkeeper crl build`)\n";
  }
  if (st.released_since_last > 0) {
    std::cout << st.released_since_last
              << " revocation(s) released since the last CRL: run `certkeeper crl build`\n";
  }
  if (st.held.empty()) {
    std::cout << "no held revocations\n";
  } else {
    std::cout << st.held.size() << " held revocation(s):\n";
    for (const auto& h : st.held) {
      std::cout << "  " << h.user << "  " << h.serial_hex << "  since " << iso(h.since)
                << (h.ticket.empty() ? "" : "  ticket " + h.ticket) << "\n"
                << "      released " << h.release_when << "\n";
    }
  }
  if (f.fail_if_stale) {
    for (const auto& why : st.stale)
      std::cout << "stale: " << why << "\n";
  }
  return code;
}

}  // namespace

void add_crl_commands(CLI::App& app, Runtime& rt) {
  auto* crl = app.add_subcommand("crl", "The certificate revocation list");
  crl->require_subcommand(1);
  auto flags = std::make_shared<BuildFlags>();
  auto* build = crl->add_subcommand(
      "build", "Build, self-check and write the next CRL (revoked-for-cause + released entries)");
  build->add_option("--out", flags->out, "Where to write it (default: [crl] out, else HOME/ca.crl)")
      ->type_name("FILE");
  build->add_flag("--der", flags->der, "Write DER instead of PEM");
  build->add_flag("--dry-run", flags->dry_run,
                  "Build, sign and check the CRL as a real build does (with --if-due: decide "
                  "whether one is due), then roll it back: print its number and what it would "
                  "add, remove and drop; no number used, nothing written or published");
  build->add_flag("--if-due", flags->if_due,
                  "Only when entries changed or the last CRL's nextUpdate is near (for timers)");
  build
      ->add_option("--before", flags->before,
                   "With --if-due: rebuild when nextUpdate is closer than this")
      ->check(duration_validator())
      ->capture_default_str();
  build->footer(
      "Refuses to build a CRL that would drop a still-valid certificate that the previous CRL\n"
      "revoked (the error names the serials), and refuses while the clock is behind the last\n"
      "CRL. The [crl] publish_command runs after the file is written; its outcome is recorded:\n"
      "a failed publish exits 1, and the next `crl build --if-due` publishes that CRL again\n"
      "(the same number when nothing changed and its file is intact). --if-due also rebuilds\n"
      "when the file is missing or changed. The file never goes back: it is written (and\n"
      "published) under a lock on its folder and only over an older CRL, and a file that is\n"
      "not a CRL of this CA is refused unless certkeeper wrote it there.");
  on_run(build, rt, [flags](Runtime& r) { return run_build(r, *flags); });
  auto status_flags = std::make_shared<StatusFlags>();
  auto* status = crl->add_subcommand(
      "status",
      "Last CRL and its publish, and every held revocation with user, serial, since, ticket");
  status->add_flag("--fail-if-stale", status_flags->fail_if_stale,
                   "Exit 3 when servers may lack a good CRL (for monitoring): none built, the last "
                   "one not published, past or near its nextUpdate, or revocations not in it yet");
  status
      ->add_option("--before", status_flags->before,
                   "With --fail-if-stale: stale when nextUpdate is closer than this")
      ->check(duration_validator())
      ->capture_default_str();
  on_run(status, rt, [status_flags](Runtime& r) { return run_status(r, *status_flags); });
  add_crl_check_command(crl, rt);
}

}  // namespace ck::cli
