#include <iostream>

#include "cli/commands.h"
#include "cli/passphrase_prompt.h"
#include "cli/render.h"
#include "core/duration.h"
#include "core/keygen.h"

namespace ck::cli {
namespace {

struct InitOptions {
  std::string name;
  std::string key_type = "ec-p256";
  std::string validity = "10y";
  std::string crl_validity = "7d";
  std::string key_uri;
  bool no_passphrase = false;
};

// After a passphrase typed at the terminal: every later command needs it too.
void print_passphrase_hint(const Runtime& rt, const ca::CaInfo& info) {
  if (info.key_encrypted && rt.passphrase_origin() == "the terminal") {
    std::cout << "  the key is encrypted with the passphrase you typed: commands on a terminal\n"
                 "  ask for it; timers and scripts read it from [ca] passphrase_file (a 0600\n"
                 "  file) or CERTKEEPER_CA_PASSPHRASE\n";
  }
}

Exit run_init(Runtime& rt, const InitOptions& o) {
  ca::InitRequest req;
  req.name = o.name;
  CK_ASSIGN(req.key_type, parse_key_type(o.key_type));
  CK_ASSIGN(req.validity, flag_duration(o.validity, "--validity"));
  CK_ASSIGN(req.crl_validity, flag_duration(o.crl_validity, "--crl-validity"));
  req.key_uri = o.key_uri;
  rt.allow_store_creation();
  CK_TRY(rt.settle_new_ca_passphrase(o.no_passphrase, !o.key_uri.empty()));
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto info, auth->init(req));
  for (const auto& w : info.warnings)
    rt.warn(w);
  if (rt.json()) {
    rt.print_json(to_json(info));
  } else if (!rt.quiet()) {
    std::cout << "created CA '" << info.name << "' (" << info.key_type << ", valid until "
              << iso(info.not_after) << ")\n"
              << "  sha256: " << info.sha256 << "\n";
    if (!info.key_uri.empty())
      std::cout << "  key:    in the token, " << info.key_uri << "\n";
    std::cout << "  home:   " << rt.home().string() << "\n";
    print_passphrase_hint(rt, info);
  }
  return kExitOk;
}

Exit run_show(Runtime& rt, bool pem) {
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto info, auth->info());
  if (pem) {
    std::cout << info.cert_pem;
  } else if (rt.json()) {
    auto j = to_json(info);
    j["pem"] = info.cert_pem;
    rt.print_json(j);
  } else {
    std::cout << "name:          " << info.name << "\n"
              << "subject:       " << info.subject << "\n"
              << "key type:      " << info.key_type
              << (!info.key_uri.empty() ? " (in a PKCS#11 token)"
                  : info.key_encrypted  ? " (encrypted at rest)"
                                        : " (NOT encrypted)")
              << "\n";
    if (!info.key_uri.empty())
      std::cout << "key:           " << info.key_uri << "\n";
    std::cout << "serial:        " << info.serial_hex << "\n"
              << "valid:         " << iso(info.not_before) << " .. " << iso(info.not_after) << "\n"
              << "sha256:        " << info.sha256 << "\n"
              << "CRL validity:  " << format_duration(info.crl_validity) << "\n";
  }
  return kExitOk;
}

struct ImportOptions {
  std::string cert;
  std::string key;
  std::string key_uri;
  std::string index;
  std::string crlnumber;
  std::string certs_dir;
  std::string user_from = "cn";
  std::string crl_validity = "7d";
  bool no_passphrase = false;
};

Exit run_import(Runtime& rt, const ImportOptions& o) {
  ca::CaImportRequest req;
  if (o.key.empty() && o.key_uri.empty())
    return fail(Code::InvalidArgument, "ca import needs the CA key: --key FILE or --key-uri URI");
  req.cert = o.cert;
  req.key = o.key;
  req.key_uri = o.key_uri;
  if (!o.index.empty())
    req.index = o.index;
  if (!o.crlnumber.empty())
    req.crlnumber = o.crlnumber;
  if (!o.certs_dir.empty())
    req.certs_dir = o.certs_dir;
  req.user_from = o.user_from == "email" ? ca::UserFrom::Email
                  : o.user_from == "uid" ? ca::UserFrom::Uid
                                         : ca::UserFrom::Cn;
  CK_ASSIGN(req.crl_validity, flag_duration(o.crl_validity, "--crl-validity"));
  rt.allow_store_creation();
  CK_TRY(rt.settle_new_ca_passphrase(o.no_passphrase, !o.key_uri.empty()));
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto done, auth->import_ca(req));
  for (const auto& w : done.ca.warnings)
    rt.warn(w);
  if (rt.json()) {
    auto j = to_json(done.ca);
    j["users"] = done.users;
    j["certificates"] = done.certificates;
    j["revoked"] = done.revoked;
    j["held"] = done.held;
    j["without_file"] = done.without_file;
    j["next_crl_number"] = done.next_crl_number;
    rt.print_json(j);
  } else if (!rt.quiet()) {
    std::cout << "imported CA '" << done.ca.name << "' (" << done.ca.key_type << ", valid until "
              << iso(done.ca.not_after) << ")\n"
              << "  " << done.users << " users, " << done.certificates << " certificates, "
              << done.revoked << " revoked\n";
    if (done.held > 0) {
      std::cout << "  " << done.held
                << " older certificates still valid beside a newer one: their revocation is "
                   "held (see `certkeeper crl status`)\n";
    }
    if (done.without_file > 0) {
      std::cout << "  " << done.without_file
                << " certificates known from index.txt only (no file in --certs-dir)\n";
    }
    std::cout << "  the next CRL is number " << done.next_crl_number << "\n";
    print_passphrase_hint(rt, done.ca);
  }
  return kExitOk;
}

Exit run_passphrase_change(Runtime& rt, const std::string& new_file) {
  Secret next;
  if (!new_file.empty()) {
    CK_ASSIGN(next, read_secret_file(new_file, "new passphrase file"));  // never empty
  } else if (!can_ask_passphrase()) {
    return fail(Code::FailedPrecondition,
                "no terminal to ask for the new passphrase on: pass --new-passphrase-file FILE "
                "(a 0600 file)");
  }
  // The store first: on a terminal the current passphrase is asked before the new one.
  CK_TRY(rt.store());
  if (new_file.empty()) {
    CK_ASSIGN(next, ask_new_passphrase("the CA key and every stored key"));
  }
  CK_ASSIGN(const auto r, rt.change_passphrase(next));
  if (rt.json()) {
    rt.print_json({{"ca_key", r.ca_key            ? "re-encrypted"
                              : r.ca_key_in_token ? "in token"
                                                  : "none"},
                   {"server_keys", r.server_keys},
                   {"acme_accounts", r.acme_accounts},
                   {"rollout_backups", r.rollout_backups}});
    return kExitOk;
  }
  if (rt.quiet())
    return kExitOk;
  std::cout << "passphrase changed: "
            << (r.ca_key            ? "the CA key, "
                : r.ca_key_in_token ? "(the CA key is in its token), "
                                    : "")
            << r.server_keys << " server certificate keys, " << r.acme_accounts
            << " ACME account keys, " << r.rollout_backups << " rollout backups\n"
            << "  every later command needs the new passphrase: put it where they read it ("
            << (rt.passphrase_origin().empty() || rt.passphrase_origin() == "the terminal"
                    ? "[ca] passphrase_file or CERTKEEPER_CA_PASSPHRASE"
                    : rt.passphrase_origin())
            << ")\n";
  return kExitOk;
}

}  // namespace

void add_ca_commands(CLI::App& app, Runtime& rt) {
  auto* ca = app.add_subcommand("ca", "The private CA: create it, show it");
  ca->require_subcommand(1);

  auto init_opts = std::make_shared<InitOptions>();
  auto* init = ca->add_subcommand(
      "init", "Create the CA (key and self-signed certificate) in the home folder");
  init->add_option("--name", init_opts->name, "CA name, used as its common name")->required();
  init->add_option("--key-type", init_opts->key_type,
                   "CA key: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519")
      ->capture_default_str();
  init->add_option("--validity", init_opts->validity, "Lifetime of the CA certificate")
      ->check(duration_validator())
      ->capture_default_str();
  init->add_option("--crl-validity", init_opts->crl_validity,
                   "Time from a CRL's thisUpdate to its nextUpdate")
      ->check(duration_validator())
      ->capture_default_str();
  init->add_option("--key-uri", init_opts->key_uri,
                   "Generate the key in this PKCS#11 token instead, e.g. "
                   "'pkcs11:token=ca-token;object=ca-key' (it never leaves the token)")
      ->type_name("URI");
  init->add_flag("--no-passphrase", init_opts->no_passphrase,
                 "Store the CA key unencrypted (in the 0600 database) when no passphrase is "
                 "configured and no terminal can ask for one");
  init->footer(
      "The CA key is stored PKCS#8-encrypted (AES-256) with the passphrase from\n"
      "$CERTKEEPER_CA_PASSPHRASE or [ca] passphrase_file in certkeeper.toml; with neither, a\n"
      "terminal is asked for one twice (no echo), and without a terminal the command refuses\n"
      "unless --no-passphrase says to store it unencrypted. With --key-uri it is made in the token "
      "(sensitive, never\n"
      "extractable) and only its URI is stored: the module comes from [pkcs11] module or\n"
      "$CERTKEEPER_PKCS11_MODULE, the PIN from $CERTKEEPER_PKCS11_PIN or [pkcs11] pin_file\n"
      "(one login attempt per command, so a wrong PIN never locks the token).");
  on_run(init, rt, [init_opts](Runtime& r) { return run_init(r, *init_opts); });

  auto import_opts = std::make_shared<ImportOptions>();
  auto* import = ca->add_subcommand(
      "import", "Adopt an existing `openssl ca` CA (easy-rsa too) without reissuing anything");
  import->add_option("--cert", import_opts->cert, "The CA certificate (PEM or DER)")->required();
  auto* key_file =
      import->add_option("--key", import_opts->key,
                         "The CA key (decrypted with $CERTKEEPER_CA_PASSPHRASE if encrypted)");
  auto* key_uri = import
                      ->add_option("--key-uri", import_opts->key_uri,
                                   "The CA key in a PKCS#11 token instead, e.g. "
                                   "'pkcs11:token=ca-token;object=ca-key' (checked to sign for "
                                   "--cert; it stays in the token)")
                      ->type_name("URI");
  key_file->excludes(key_uri);
  key_uri->excludes(key_file);
  import->add_option("--index", import_opts->index, "openssl ca's index.txt")->type_name("FILE");
  import
      ->add_option("--crlnumber", import_opts->crlnumber,
                   "openssl ca's crlnumber file: the CRL numbering continues from it")
      ->type_name("FILE");
  import
      ->add_option("--certs-dir", import_opts->certs_dir,
                   "openssl ca's new_certs_dir with SERIAL.pem files")
      ->type_name("DIR");
  import
      ->add_option("--user-from", import_opts->user_from,
                   "Subject attribute that names each user: cn, email or uid (a value that "
                   "cannot be a user name stops the import, naming its line)")
      ->check(CLI::IsMember({"cn", "email", "uid"}))
      ->capture_default_str();
  import
      ->add_option("--crl-validity", import_opts->crl_validity,
                   "Time from a CRL's thisUpdate to its nextUpdate")
      ->check(duration_validator())
      ->capture_default_str();
  import->add_flag("--no-passphrase", import_opts->no_passphrase,
                   "Store the CA key unencrypted when no passphrase is configured and no "
                   "terminal can ask for one");
  import->footer(
      "The stored key is encrypted as with `ca init` (a passphrase configured, else asked on\n"
      "the terminal, else --no-passphrase). "
      "Keeps every serial and revocation; the newest valid certificate of each user becomes\n"
      "current, older still-valid ones are superseded with a held revocation. A line of\n"
      "index.txt that cannot be read is named with its line number and nothing is imported.");
  on_run(import, rt, [import_opts](Runtime& r) { return run_import(r, *import_opts); });

  auto* passphrase = ca->add_subcommand("passphrase", "The passphrase that encrypts stored keys");
  passphrase->require_subcommand(1);
  auto new_file = std::make_shared<std::string>();
  auto* change = passphrase->add_subcommand(
      "change", "Re-encrypt the CA key and every stored key under a new passphrase");
  change
      ->add_option("--new-passphrase-file", *new_file,
                   "Read the new passphrase from this file (mode 0600; its trailing newline is "
                   "not part of it); without it a terminal is asked twice")
      ->type_name("FILE");
  change->footer(
      "The current passphrase comes from $CERTKEEPER_CA_PASSPHRASE or [ca] passphrase_file (or\n"
      "the terminal). The CA key, every version of every server certificate key, the ACME\n"
      "account keys and the files rollouts backed up move to the new passphrase in one\n"
      "transaction: a key that does not open changes nothing. Keys stored unencrypted are\n"
      "encrypted. Afterwards put the new passphrase where later commands read it (replace the\n"
      "passphrase_file, e.g. `mv NEW-FILE OLD-FILE`): until then they fail, nothing is lost.");
  on_run(change, rt, [new_file](Runtime& r) { return run_passphrase_change(r, *new_file); });

  auto pem = std::make_shared<bool>(false);
  auto* show = ca->add_subcommand("show", "Show the CA certificate's details");
  show->add_flag("--pem", *pem, "Print the CA certificate as PEM instead");
  on_run(show, rt, [pem](Runtime& r) { return run_show(r, *pem); });
}

}  // namespace ck::cli
