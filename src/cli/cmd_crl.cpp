#include <iostream>

#include "cli/commands.h"
#include "cli/render.h"

namespace ck::cli {
namespace {

struct BuildFlags {
  std::string out;
  bool der = false;
};

int run_build(Runtime& rt, const BuildFlags& f) {
  ca::CrlRequest req;
  req.der = f.der;
  req.out =
      f.out.empty() ? rt.home() / (f.der ? "ca.crl.der" : "ca.crl") : std::filesystem::path(f.out);
  auto auth = rt.authority();
  if (!auth)
    return rt.error(auth.error());
  auto built = (*auth)->build_crl(req);
  if (!built)
    return rt.error(built.error());
  if (rt.json()) {
    rt.print_json({{"number", built->number},
                   {"this_update", iso(built->this_update)},
                   {"next_update", iso(built->next_update)},
                   {"entries", built->entries},
                   {"path", built->path ? built->path->string() : ""},
                   {"format", f.der ? "der" : "pem"},
                   {"dropped", built->dropped_hex}});
  } else {
    std::cout << "CRL #" << built->number << " with " << built->entries
              << (built->entries == 1 ? " entry" : " entries") << ", next update "
              << iso(built->next_update) << "\n";
    if (built->path)
      std::cout << "  written to " << built->path->string() << "\n";
    for (const auto& d : built->dropped_hex) {
      std::cout << "  dropped held revocation of " << d
                << " (expired before the user confirmed: never needs an entry)\n";
    }
  }
  return kExitOk;
}

int run_status(Runtime& rt) {
  auto auth = rt.authority();
  if (!auth)
    return rt.error(auth.error());
  auto st = (*auth)->crl_status();
  if (!st)
    return rt.error(st.error());
  if (rt.json()) {
    nlohmann::json j;
    j["last_crl"] = st->last_number ? nlohmann::json{{"number", *st->last_number},
                                                     {"this_update", iso(*st->this_update)},
                                                     {"next_update", iso(*st->next_update)},
                                                     {"entries", st->last_entries}}
                                    : nlohmann::json(nullptr);
    j["released_since_last"] = st->released_since_last;
    j["held"] = nlohmann::json::array();
    for (const auto& h : st->held) {
      j["held"].push_back({{"user", h.user},
                           {"serial", h.serial_hex},
                           {"since", iso(h.since)},
                           {"not_after", iso(h.not_after)},
                           {"ticket", h.ticket},
                           {"replacement", h.replacement_hex.value_or("")},
                           {"release_when", h.release_when}});
    }
    rt.print_json(j);
    return kExitOk;
  }
  if (st->last_number) {
    std::cout << "last CRL: #" << *st->last_number << ", " << st->last_entries
              << " entries, this update " << iso(*st->this_update) << ", next update "
              << iso(*st->next_update) << "\n";
  } else {
    std::cout << "no CRL built yet (run `certkeeper crl build`)\n";
  }
  if (st->released_since_last > 0) {
    std::cout << st->released_since_last
              << " revocation(s) released since the last CRL: run `certkeeper crl build`\n";
  }
  if (st->held.empty()) {
    std::cout << "no held revocations\n";
  } else {
    std::cout << st->held.size() << " held revocation(s):\n";
    for (const auto& h : st->held) {
      std::cout << "  " << h.user << "  " << h.serial_hex << "  since " << iso(h.since)
                << (h.ticket.empty() ? "" : "  ticket " + h.ticket) << "\n"
                << "      released " << h.release_when << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

void add_crl_commands(CLI::App& app, Runtime& rt) {
  auto* crl = app.add_subcommand("crl", "The certificate revocation list");
  crl->require_subcommand(1);
  auto flags = std::make_shared<BuildFlags>();
  auto* build = crl->add_subcommand(
      "build", "Build, self-check and write the next CRL (revoked-for-cause + released entries)");
  build->add_option("--out", flags->out, "Where to write it (default: HOME/ca.crl)")
      ->type_name("FILE");
  build->add_flag("--der", flags->der, "Write DER instead of PEM");
  build->footer(
      "Refuses to build a CRL that would drop a still-valid certificate that the previous CRL\n"
      "revoked; the error names the serials.");
  on_run(build, rt, [flags](Runtime& r) { return run_build(r, *flags); });
  auto* status = crl->add_subcommand(
      "status", "Last CRL, and every held revocation with user, serial, since, ticket, release");
  on_run(status, rt, [](Runtime& r) { return run_status(r); });
}

}  // namespace ck::cli
