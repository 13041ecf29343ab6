#include "cli/app.h"

#include <iostream>

#include "cli/commands.h"
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

int run(int argc, char** argv) {
  SystemClock clock;
  Runtime rt(clock);
  CLI::App app{
      "certkeeper: TLS certificate renewal for operations teams. One program, its state in one\n"
      "SQLite database under a home folder; every step that changes the world is checked by\n"
      "observing it (a TLS handshake, a parsed CRL), not by trusting an exit code.\n"
      "\n"
      "  Client certificates (a private CA): ca, user, cert, expiring, crl, observe, notify.\n"
      "    Create, renew, revoke; PKCS#12 with a password sent another way; a CRL in which each\n"
      "    superseded certificate's revocation is held until its user applied the new one.\n"
      "  Server certificates: acme (issue, renew), cert import, rollout (plan, apply in stages,\n"
      "    status, resume, rollback), verify (which certificate each endpoint serves).\n"
      "  Endpoints: probe (handshakes with thousands of TLS endpoints), fingerprint.\n"
      "\n"
      "A store is created by `ca init`, `ca import`, `acme issue` or `cert import`; every other\n"
      "command on a home without one is an error.",
      "certkeeper"};
  app.set_version_flag("--version", std::string("certkeeper ") + CK_VERSION);
  app.require_subcommand(1);
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "certkeeper: error: " << printable_line(e.what()) << "\n"
              << "Run `certkeeper --help` (or `certkeeper COMMAND --help`) for usage.\n";
    return kExitUsage;
  }
  if (!rt.action) {
    std::cerr << app.help();
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
