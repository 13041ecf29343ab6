#include "cli/app.h"

#include <iostream>

#include "cli/commands.h"
#include "cli/help_format.h"
#include "core/duration.h"
#include "core/printable.h"

namespace ck::cli {

CLI::Validator duration_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto d = parse_duration(value);
        return d ? std::string() : d.error().message;
      },
      "DURATION", "duration");
}

Result<std::chrono::seconds> flag_duration(const std::string& text, std::string_view flag) {
  auto d = parse_duration(text);
  if (!d)
    return fail(std::move(d).error().context(flag));
  return *d;
}

void define_commands(CLI::App& app, Runtime& rt) {
  app.description(
      "certkeeper: TLS certificate renewal for operations teams. One program, its state in one\n"
      "store (SQLite under a home folder, or PostgreSQL for a team); every step that changes\n"
      "the world is checked by observing it (a TLS handshake, a parsed CRL), not by trusting an\n"
      "exit code.\n"
      "\n"
      "  Client certificates (a private CA): ca, user, cert, expiring, crl, observe, notify.\n"
      "    Create, renew, revoke; PKCS#12 with a password sent another way; a CRL in which each\n"
      "    superseded certificate's revocation is held until its user applied the new one.\n"
      "  Server certificates: acme (issue, renew), cert import, rollout (plan, apply in stages,\n"
      "    status, resume, rollback), verify (which certificate each endpoint serves).\n"
      "  Endpoints: probe (handshakes with thousands of TLS endpoints), fingerprint.\n"
      "\n"
      "A store is created by `ca init`, `ca import`, `acme issue` or `cert import`; every other\n"
      "command on a home without one is an error.");
  app.name("certkeeper");
  app.set_version_flag("--version", std::string("certkeeper ") + CK_VERSION);
  app.require_subcommand(1);
  app.formatter(std::make_shared<HelpFormatter>());
  app.fallthrough();
  app.option_defaults()->always_capture_default();
  app.add_option("--home", rt.global.home,
                 "Home folder (default: $CERTKEEPER_HOME, else $XDG_DATA_HOME/certkeeper, else "
                 "~/.local/share/certkeeper)")
      ->type_name("DIR");
  app.add_option("--store", rt.global.store_url,
                 "Store URL (default: $CERTKEEPER_STORE, else sqlite:HOME/certkeeper.db)")
      ->type_name("URL")
      ->envname("CERTKEEPER_STORE");
  app.add_option("--config", rt.global.config,
                 "Config file (default: $CERTKEEPER_CONFIG, else HOME/certkeeper.toml)")
      ->type_name("FILE")
      ->envname("CERTKEEPER_CONFIG");
  app.add_flag("--json", rt.global.json, "Machine-readable output on stdout");
  app.add_flag("-q,--quiet", rt.global.quiet,
               "No progress and no summary of what was done (the exit code says it); errors, "
               "warnings, --json, listings, problems found and a password shown once are "
               "still printed");
  app.footer(
      "Exit codes: 0 success, 1 error, 2 usage error, 3 a check found problems.\n"
      "Durations: 90d, 14d, 36h, 30m, 10y (a plain number is days).\n"
      "The CA key passphrase comes from $CERTKEEPER_CA_PASSPHRASE or [ca] passphrase_file.\n"
      "Run `certkeeper COMMAND --help` for the options of a command.");

  add_ca_commands(app, rt);
  add_user_commands(app, rt);
  add_cert_commands(app, rt);
  add_expiring_command(app, rt);
  add_crl_commands(app, rt);
  add_observe_command(app, rt);
  add_notify_command(app, rt);
  add_fingerprint_command(app, rt);
  add_probe_command(app, rt);
  add_acme_commands(app, rt);
  add_rollout_commands(app, rt);
  add_serve_command(app, rt);
  add_store_commands(app, rt);
  add_meta_commands(app, rt);
}

int run(int argc, char** argv) {
  SystemClock clock;
  Runtime rt(clock);
  CLI::App app;
  define_commands(app, rt);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A mistyped or missing command is named as such, with the closest
    // commands, rather than CLI11's "A subcommand is required".
    const std::vector<std::string> args(argv + 1, argv + argc);
    const auto walk = walk_commands(app, args);
    const auto wrong_command = command_error(walk);
    std::string named;  // the command the words got to: its help is the one to read
    for (const auto* cmd : walk.path)
      named += (named.empty() ? "" : " ") + cmd->get_name();
    std::cerr << "certkeeper: error: " << printable_line(wrong_command ? *wrong_command : e.what())
              << "\n"
              << "Run `" << named << " --help` for usage.\n";
    return kExitUsage;
  }
  if (!rt.action) {
    const auto walk = walk_commands(app, std::vector<std::string>(argv + 1, argv + argc));
    std::cerr << walk.path.back()->help();
    return kExitUsage;
  }
  Exit done = kExitError;
  try {
    done = rt.action();
  } catch (const std::exception& e) {
    // Only third-party code throws; report it like any other error.
    done = fail(Code::Internal, e.what());
  }
  const int code = done ? *done : rt.report_error(done.error());
  if (code == kExitError)
    rt.discard_failed_creation();
  return code;
}

}  // namespace ck::cli
