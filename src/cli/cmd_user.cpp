#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "ca/reason.h"
#include "ca/serial.h"
#include "ca/user_csv.h"
#include "cli/commands.h"
#include "cli/render.h"
#include "core/duration.h"
#include "core/file_io.h"

namespace ck::cli {
namespace {

struct IssueFlags {
  std::string validity = "365d";
  std::string out;
  std::string ticket;
  std::string password_file;
  std::string csr;
  std::string p12 = "modern";
  std::string key_type = "ec-p256";
};

void add_issue_flags(CLI::App* cmd, IssueFlags& f) {
  cmd->add_option("--validity", f.validity, "Lifetime (never beyond the CA's own notAfter)")
      ->check(duration_validator())
      ->capture_default_str();
  cmd->add_option("--out", f.out, "Folder for USER.p12 (0600) and USER.crt (default: HOME/bundles)")
      ->type_name("DIR");
  cmd->add_option("--ticket", f.ticket, "Ticket id recorded with the certificate (e.g. T1234)");
  cmd->add_option("--password-file", f.password_file,
                  "Write the PKCS#12 password to this new 0600 file instead of printing it")
      ->type_name("FILE");
  cmd->add_option("--csr", f.csr, "Sign the user's own CSR instead of making a key (no PKCS#12)")
      ->type_name("FILE");
  cmd->add_option("--p12", f.p12,
                  "modern: AES-256/PBKDF2 + SHA-256 MAC; compat: 3DES + SHA-1 MAC for old devices")
      ->check(CLI::IsMember({"modern", "compat"}))
      ->capture_default_str();
  cmd->add_option("--key-type", f.key_type,
                  "User key: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519")
      ->capture_default_str();
}

Result<ca::IssueOptions> issue_options(Runtime& rt, const IssueFlags& f) {
  ca::IssueOptions o;
  CK_ASSIGN(o.validity, flag_duration(f.validity, "--validity"));
  o.out_dir = f.out.empty() ? rt.home() / "bundles" : std::filesystem::path(f.out);
  o.ticket = f.ticket;
  if (!f.password_file.empty())
    o.password_file = f.password_file;
  if (!f.csr.empty())
    o.csr = f.csr;
  CK_ASSIGN(o.p12, ca::parse_p12_mode(f.p12));
  CK_ASSIGN(o.key_type, parse_key_type(f.key_type));
  if (!o.password_file && !o.csr) {
    CK_ASSIGN(o.password_sink, rt.password_sink());
  }
  return o;
}

/// The CA and the issue options, loaded together (the options need the config).
struct IssueContext {
  ca::Authority* auth = nullptr;
  ca::IssueOptions opts;
};

Result<IssueContext> issue_context(Runtime& rt, const IssueFlags& f) {
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(auto opts, issue_options(rt, f));
  return IssueContext{auth, std::move(opts)};
}

// A password that was to go out by another channel and did not is not a
// success: the bundle is written and the password is printed (it exists
// nowhere else), and the command exits 1 so a script or a timer notices. The
// error line comes first, so the password stays the last thing on screen.
int delivery_failed(Runtime& rt, const ca::Issued& v) {
  return rt.report_error(Error{Code::Unavailable,
                               v.delivery_warning + ": the bundle of '" + v.user +
                                   "' is written (" + (v.p12 ? v.p12->string() : v.crt.string()) +
                                   ") and its password is shown on stdout instead; hand it over "
                                   "by another channel than the bundle",
                               {}});
}

// The lines an issuance and its dry run share: the superseded certificate
// and what becomes of its revocation, the files, the ticket. `would` is
// "would be " in a dry run.
void print_issued_files(const ca::Issued& v, std::string_view would) {
  if (v.superseded_hex) {
    std::cout << "  supersedes:  " << *v.superseded_hex << " (revocation " << would
              << (v.superseded_revocation == "held"
                      ? "held until `certkeeper user confirm " + v.user + "`"
                  : v.superseded_revocation == "released" ? "released at once: never delivered"
                                                          : "not needed: expired")
              << ")\n";
  }
  if (v.p12)
    std::cout << "  bundle:      " << v.p12->string() << " (PKCS#12, " << v.p12_mode << ")\n";
  std::cout << "  certificate: " << v.crt.string() << "\n";
  if (!v.ticket.empty())
    std::cout << "  ticket:      " << v.ticket << "\n";
}

// A dry run's renewal: what a real run would issue and write, nothing done.
Exit print_dry_run(Runtime& rt, const ca::Issued& v, bool password_to_sink) {
  if (rt.json()) {
    rt.print_json(to_json(v, false));
    return kExitOk;
  }
  std::cout << "dry run: would renew " << v.user << "'s certificate (nothing recorded or written)\n"
            << "  subject:     " << v.subject << "\n"
            << "  valid until: " << iso(v.not_after) << "\n";
  print_issued_files(v, "would be ");
  if (v.p12) {
    std::cout << "  password:    "
              << (v.password_file    ? "would be written to " + v.password_file->string()
                  : password_to_sink ? std::string("would go to the [delivery] command")
                                     : std::string("would be shown once"))
              << "\n";
  }
  return kExitOk;
}

Exit print_issued(Runtime& rt, const ca::Issued& v, std::string_view verb) {
  const int code = v.delivery_warning.empty() ? kExitOk : delivery_failed(rt, v);
  if (rt.json()) {
    rt.print_json(to_json(v, true));
    return code;
  }
  if (rt.quiet()) {
    // Only what exists nowhere else: a password to be shown, alone on its line.
    if (v.password)
      std::cout << v.password->reveal() << "\n";
    return code;
  }
  std::cout << verb << " certificate " << v.serial_hex << " for " << v.user << " (valid until "
            << iso(v.not_after) << ")\n";
  print_issued_files(v, "");
  if (v.password_file) {
    std::cout << "  password in: " << v.password_file->string() << "\n";
  }
  if (v.password_delivered) {
    std::cout << "  password:    handed to the [delivery] command (not shown)\n";
  }
  if (v.password) {
    std::cout
        << "  password:    " << v.password->reveal()
        << "\n  (shown once and not stored: hand it over by another channel than the bundle)\n";
  }
  return code;
}

struct CreateFlags {
  store::UserProfile profile;
  IssueFlags issue;
};

Exit run_create(Runtime& rt, const CreateFlags& f) {
  CK_ASSIGN(auto ctx, issue_context(rt, f.issue));
  CK_ASSIGN(const auto issued, ctx.auth->create_user({f.profile, std::move(ctx.opts)}));
  return print_issued(rt, issued, "issued");
}

struct ImportFlags {
  std::string file;
  IssueFlags issue;
  std::size_t batch = 256;
};

// One user of a handed-over batch, as a text line.
void print_imported(const ca::Issued& one) {
  std::cout << "  " << one.user << "\t" << one.serial_hex << "\t"
            << (one.password             ? one.password->reveal()
                : one.password_delivered ? "(sent by the [delivery] command)"
                : one.password_file      ? "(in " + one.password_file->string() + ")"
                                         : "")
            << "\n";
}

Exit run_import(Runtime& rt, const ImportFlags& f) {
  CK_ASSIGN(const auto text, read_file(f.file, kCsvInput));
  std::vector<std::size_t> lines;
  ca::ImportRequest req;
  CK_ASSIGN(req.profiles, ca::parse_user_csv(text, f.file, &lines));
  CK_ASSIGN(auto ctx, issue_context(rt, f.issue));
  for (const auto line : lines)
    req.origins.push_back("'" + f.file + "' line " + std::to_string(line));
  req.issue = std::move(ctx.opts);
  // --password-file names a folder here: one USER.pw per user.
  req.password_dir = std::move(req.issue.password_file);
  req.issue.password_file.reset();
  req.batch = f.batch;
  if (!rt.quiet() && ::isatty(STDERR_FILENO)) {
    req.progress = [](std::size_t done, std::size_t total) {
      std::cerr << "\rissued " << done << "/" << total << std::flush;
      if (done == total)
        std::cerr << "\n";
    };
  }
  // Each batch's passwords go out (flushed) as soon as its bundles are
  // written, before the batch is recorded as delivered: a run that stops
  // later, even by kill -9, has shown every password it handed out.
  std::optional<JsonArrayWriter> json_out;
  if (rt.json())
    json_out.emplace(rt);
  std::size_t shown = 0;
  std::size_t undelivered = 0;
  std::string first_undelivered;
  req.handed_over = [&](const std::vector<ca::Issued>& batch) {
    for (const auto& one : batch) {
      if (!one.delivery_warning.empty() && undelivered++ == 0)
        first_undelivered = one.user + ": " + one.delivery_warning;
    }
    if (json_out) {
      for (const auto& one : batch)
        json_out->add(to_json(one, true));
      json_out->flush();
      return;
    }
    if (shown == 0 && !rt.quiet()) {
      std::cout << (req.password_dir
                        ? "passwords in " + req.password_dir->string() + " (one file per user):\n"
                        : std::string("passwords (shown once, not stored; hand each over by "
                                      "another channel):\n"));
    }
    for (const auto& one : batch)
      print_imported(one);
    shown += batch.size();
    std::cout << std::flush;
  };
  auto issued = ctx.auth->import_users(req);
  if (json_out)
    json_out->finish();
  if (!issued)
    return fail(issued.error());
  if (!rt.json() && !rt.quiet()) {
    std::cout << "imported " << issued->size() << " users; bundles in "
              << req.issue.out_dir.string() << "\n";
  }
  if (undelivered == 0)
    return kExitOk;
  return fail(Code::Unavailable, "password delivery failed for " + std::to_string(undelivered) +
                                     " of " + std::to_string(issued->size()) +
                                     " users (first: " + first_undelivered +
                                     "): their bundles are written and their passwords are shown "
                                     "on stdout instead; hand them over by another channel");
}

struct RenewFlags {
  std::string user;
  std::vector<std::string> sets;
  IssueFlags issue;
  bool dry_run = false;
};

Exit run_renew(Runtime& rt, const RenewFlags& f, bool ticket_given) {
  CK_ASSIGN(auto ctx, issue_context(rt, f.issue));
  const bool to_sink = static_cast<bool>(ctx.opts.password_sink);
  ca::RenewRequest req{f.user, f.sets, std::move(ctx.opts), ticket_given, f.dry_run};
  CK_ASSIGN(const auto issued, ctx.auth->renew_user(req));
  if (issued.dry_run)
    return print_dry_run(rt, issued, to_sink);
  return print_issued(rt, issued, "renewed:");
}

struct RevokeFlags {
  std::string user;
  std::string reason = "unspecified";
  std::string serial;
  std::string ticket;
  bool dry_run = false;
};

Exit run_revoke(Runtime& rt, const RevokeFlags& f) {
  ca::RevokeRequest req;
  req.user = f.user;
  req.ticket = f.ticket;
  req.dry_run = f.dry_run;
  CK_ASSIGN(req.reason, ca::parse_reason(f.reason));
  if (!f.serial.empty()) {
    CK_ASSIGN(req.serial, ca::parse_serial_hex(f.serial));
  }
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto done, auth->revoke(req));
  if (rt.json()) {
    rt.print_json({{"user", done.user},
                   {"serial", done.serial_hex},
                   {"reason", done.reason},
                   {"revoked_at", iso(done.at)},
                   {"was_held", done.was_held},
                   {"also_released", done.also_released_hex},
                   {"user_disabled", done.user_disabled},
                   {"dry_run", done.dry_run}});
  } else if (rt.quiet() && !done.dry_run) {
  } else if (done.dry_run) {
    std::cout << "dry run: would revoke certificate " << done.serial_hex << " of " << done.user
              << " (" << done.reason << "); it would be in the next `certkeeper crl build` "
              << "(nothing recorded)\n";
    for (const auto& s : done.also_released_hex) {
      std::cout << "would also release the held revocation of superseded certificate " << s << "\n";
    }
    if (done.user_disabled) {
      std::cout << done.user << " would be disabled: `user renew` refused until `certkeeper "
                << "user enable " << done.user << "`\n";
    }
  } else {
    std::cout << "revoked certificate " << done.serial_hex << " of " << done.user << " ("
              << done.reason << "); it is in the next `certkeeper crl build`\n";
    for (const auto& s : done.also_released_hex) {
      std::cout << "also released the held revocation of superseded certificate " << s << "\n";
    }
    if (done.user_disabled) {
      std::cout << done.user << " is disabled: `user renew` is refused until `certkeeper user "
                << "enable " << done.user << "`\n";
    }
  }
  return kExitOk;
}

Exit run_confirm(Runtime& rt, const std::string& user) {
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto done, auth->confirm(user));
  if (rt.json()) {
    rt.print_json({{"user", done.user}, {"released", done.released_hex}});
  } else if (rt.quiet()) {
  } else if (done.released_hex.empty()) {
    std::cout << user << " confirmed; no held revocation to release\n";
  } else {
    for (const auto& s : done.released_hex) {
      std::cout << "released the held revocation of " << s << " (" << user
                << "); it is in the next `certkeeper crl build`\n";
    }
  }
  return kExitOk;
}

Exit run_enable(Runtime& rt, const std::string& user) {
  CK_ASSIGN(auto* auth, rt.authority());
  CK_TRY(auth->enable_user(user));
  if (rt.json()) {
    rt.print_json({{"user", user}, {"enabled", true}});
  } else if (!rt.quiet()) {
    std::cout << user << " enabled; `certkeeper user renew " << user
              << "` may issue them a certificate again\n";
  }
  return kExitOk;
}

Exit run_list(Runtime& rt) {
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto users, auth->list_users());
  if (rt.json()) {
    auto arr = nlohmann::json::array();
    for (const auto& u : users) {
      auto j = to_json(u.profile);
      j["current"] = u.current ? to_json(*u.current) : nlohmann::json(nullptr);
      j["disabled_at"] = u.disabled_at ? nlohmann::json(iso(*u.disabled_at)) : nullptr;
      arr.push_back(std::move(j));
    }
    rt.print_json(arr);
    return kExitOk;
  }
  if (users.empty()) {
    std::cout << "no user\n";
    return kExitOk;
  }
  const Seconds now = rt.clock().now_seconds();
  TextTable t({"USER", "NAME", "E-MAIL", "STATUS", "SERIAL", "NOT AFTER", "DAYS"});
  for (const auto& u : users) {
    const auto& p = u.profile;
    if (u.disabled_at) {
      t.add({p.name, p.cn, p.email, "disabled (revoked " + iso(*u.disabled_at) + ")"});
    } else if (u.current) {
      t.add({p.name, p.cn, p.email, u.current->status, u.current->serial_hex,
             iso(u.current->not_after), std::to_string(days_left(u.current->not_after, now))});
    } else {
      t.add({p.name, p.cn, p.email, "no active certificate"});
    }
  }
  std::cout << t.str();
  return kExitOk;
}

struct EditFlags {
  std::string user;
  std::vector<std::string> sets;
};

Exit run_edit(Runtime& rt, const EditFlags& f) {
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto profile, auth->edit_user(f.user, f.sets));
  if (rt.json()) {
    rt.print_json(to_json(profile));
  } else if (!rt.quiet()) {
    std::cout << "changed " << f.user << "'s profile (no new certificate)";
    if (!profile.phone.empty())
      std::cout << ": phone " << profile.phone;
    std::cout << "\n";
  }
  return kExitOk;
}

Exit run_show(Runtime& rt, const std::string& user) {
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto v, auth->show_user(user));
  if (rt.json()) {
    auto j = to_json(v.profile);
    j["created_at"] = iso(v.created_at);
    j["disabled_at"] = v.disabled_at ? nlohmann::json(iso(*v.disabled_at)) : nullptr;
    j["current"] = v.current ? to_json(*v.current) : nlohmann::json(nullptr);
    j["certificates"] = nlohmann::json::array();
    for (const auto& c : v.certificates) {
      j["certificates"].push_back(to_json(c));
      j["certificates"].back()["subject"] = c.subject;
    }
    j["notes"] = v.notes;
    j["history"] = nlohmann::json::array();
    for (const auto& h : v.history) {
      j["history"].push_back(
          {{"at", iso(h.at)}, {"actor", h.actor}, {"action", h.action}, {"detail", h.detail}});
    }
    rt.print_json(j);
    return kExitOk;
  }
  const auto& p = v.profile;
  std::cout << "user:     " << p.name << "\n"
            << "cn:       " << p.cn << "\n"
            << "email:    " << p.email << "\n";
  if (!p.org.empty())
    std::cout << "org:      " << p.org << "\n";
  if (!p.ou.empty())
    std::cout << "ou:       " << p.ou << "\n";
  if (!p.locality.empty())
    std::cout << "locality: " << p.locality << "\n";
  if (!p.state.empty())
    std::cout << "state:    " << p.state << "\n";
  if (!p.country.empty())
    std::cout << "country:  " << p.country << "\n";
  if (!p.phone.empty())
    std::cout << "phone:    " << p.phone << "\n";
  std::cout << "certificates:\n";
  // The subject as each certificate carries it: a changed OU shows where it changed.
  TextTable certs({"SERIAL", "STATUS", "NOT AFTER", "DAYS", "TICKET", "SUBJECT"});
  const Seconds now = rt.clock().now_seconds();
  for (const auto& c : v.certificates) {
    certs.add({c.serial_hex, c.status, iso(c.not_after),
               std::to_string(days_left(c.not_after, now)), c.ticket.empty() ? "-" : c.ticket,
               c.subject});
  }
  if (!certs.empty())
    std::cout << certs.str("  ");
  for (const auto& n : v.notes)
    std::cout << "note: " << n << "\n";
  std::cout << "history:\n";
  for (const auto& h : v.history) {
    std::cout << "  " << iso(h.at) << "  " << h.action << "  " << h.detail << "  (" << h.actor
              << ")\n";
  }
  return kExitOk;
}

void add_profile_flags(CLI::App* cmd, store::UserProfile& p) {
  cmd->add_option("USER", p.name, "User id (letters, digits, . _ - @)")->required();
  cmd->add_option("--cn", p.cn, "Common name, e.g. the person's full name")->required();
  cmd->add_option("--email", p.email, "E-mail address (goes into subjectAltName)")->required();
  cmd->add_option("--org", p.org, "Organization (O)");
  cmd->add_option("--ou", p.ou, "Organizational unit (OU)");
  cmd->add_option("--locality", p.locality, "Locality (L)");
  cmd->add_option("--state", p.state, "State or province (ST)");
  cmd->add_option("--country", p.country, "Two-letter country code (C)");
  cmd->add_option("--phone", p.phone,
                  "Phone number for password delivery (not in the certificate)");
}

}  // namespace

void add_user_commands(CLI::App& app, Runtime& rt) {
  auto* user = app.add_subcommand("user", "Users' client certificates");
  user->require_subcommand(1);

  auto create_flags = std::make_shared<CreateFlags>();
  auto* create = user->add_subcommand(
      "create", "Create a user and issue their first certificate with a PKCS#12 bundle");
  add_profile_flags(create, create_flags->profile);
  add_issue_flags(create, create_flags->issue);
  create->footer(
      "Writes DIR/USER.p12 (0600) and DIR/USER.crt. The random PKCS#12 password is printed\n"
      "once (\"password\" in --json) unless --password-file is given; it is never stored.");
  on_run(create, rt, [create_flags](Runtime& r) { return run_create(r, *create_flags); });

  auto import_flags = std::make_shared<ImportFlags>();
  auto* import =
      user->add_subcommand("import", "Create many users at once from a CSV file, one bundle each");
  import
      ->add_option("FILE", import_flags->file,
                   "CSV with a header row naming the fields of user create: user, cn, email, "
                   "org, ou, locality, state, country, phone")
      ->required();
  import
      ->add_option("--out", import_flags->issue.out,
                   "Folder for the bundles (default: HOME/bundles)")
      ->type_name("DIR");
  import->add_option("--validity", import_flags->issue.validity, "Lifetime of each certificate")
      ->check(duration_validator())
      ->capture_default_str();
  import->add_option("--ticket", import_flags->issue.ticket,
                     "Ticket id recorded with every certificate");
  import->add_option("--p12", import_flags->issue.p12, "modern or compat (see user create)")
      ->check(CLI::IsMember({"modern", "compat"}))
      ->capture_default_str();
  import->add_option("--key-type", import_flags->issue.key_type, "User key type")
      ->capture_default_str();
  import
      ->add_option("--password-file", import_flags->issue.password_file,
                   "Folder for the passwords: one new 0600 file USER.pw per user, instead of "
                   "printing them")
      ->type_name("DIR");
  import->add_option("--batch", import_flags->batch, "Users per batch (one transaction each)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
      ->capture_default_str();
  import->footer(
      "Every field of every row is checked first (UTF-8, lengths, the subject as it will be\n"
      "encoded, the files it goes to): a bad row is named with its line number and nothing is\n"
      "imported. Then batch by batch: the certificates are recorded, the bundles written, the\n"
      "passwords printed at once (\"password\" per user in --json) or written to the\n"
      "--password-file folder, and only then recorded as delivered. If the run stops part-way\n"
      "(an error, a crash, kill -9), every password handed out is already shown, and whatever\n"
      "was issued and not handed over is listed by `user show USER` with the command to\n"
      "reissue it; the error names the first row not imported.");
  on_run(import, rt, [import_flags](Runtime& r) { return run_import(r, *import_flags); });

  auto edit_flags = std::make_shared<EditFlags>();
  auto* edit = user->add_subcommand(
      "edit", "Change profile fields that are not in the certificate (phone), without reissuing");
  edit->add_option("USER", edit_flags->user, "User id")->required();
  edit->add_option("--set", edit_flags->sets, "FIELD=VALUE to change: phone")
      ->type_name("FIELD=VALUE")
      ->required();
  edit->footer(
      "Fields the certificate carries (cn, email, org, ou, locality, state, country) change only\n"
      "with a new certificate: `certkeeper user renew USER --set FIELD=VALUE`. The audit entry\n"
      "names the fields changed, not their values.");
  on_run(edit, rt, [edit_flags](Runtime& r) { return run_edit(r, *edit_flags); });

  auto renew_flags = std::make_shared<RenewFlags>();
  auto* renew = user->add_subcommand(
      "renew", "Issue a new certificate; the old one's revocation is held until the user confirms");
  renew->add_option("USER", renew_flags->user, "User id")->required();
  renew
      ->add_option("--set", renew_flags->sets,
                   "FIELD=VALUE to change (cn, email, org, ou, locality, state, country, phone); "
                   "everything else is copied from the current certificate")
      ->type_name("FIELD=VALUE");
  add_issue_flags(renew, renew_flags->issue);
  renew->add_flag("--dry-run", renew_flags->dry_run,
                  "Do everything up to recording (the user's lease, the key, the certificate "
                  "signed), then roll it back: print what would be issued and written; nothing "
                  "is recorded, written or sent");
  renew->footer(
      "One run at a time changes a user (create, renew, revoke, confirm, enable, import rows):\n"
      "each takes the user's lease in the store first. A second run on the same user fails at\n"
      "once, naming the run that holds it, and changes nothing; a lease left by a run that died\n"
      "is taken over when it expires (15 minutes after its last step), or at once when that\n"
      "run was a process on this host that is gone.");
  on_run(renew, rt, [renew_flags, renew](Runtime& r) {
    return run_renew(r, *renew_flags, renew->count("--ticket") > 0);
  });

  auto revoke_flags = std::make_shared<RevokeFlags>();
  auto* revoke = user->add_subcommand(
      "revoke", "Revoke a user's certificate for cause; it is in the very next CRL");
  revoke->add_option("USER", revoke_flags->user, "User id")->required();
  revoke
      ->add_option("--reason", revoke_flags->reason,
                   "unspecified, keyCompromise, affiliationChanged, superseded, "
                   "cessationOfOperation, certificateHold or privilegeWithdrawn")
      ->capture_default_str();
  revoke
      ->add_option("--serial", revoke_flags->serial,
                   "Serial (hex) of the certificate to revoke (default: the current one)")
      ->type_name("HEX");
  revoke->add_option("--ticket", revoke_flags->ticket, "Ticket id recorded with the revocation");
  revoke->add_flag("--dry-run", revoke_flags->dry_run,
                   "Decide and record the revocation as a real run does, then roll it back: "
                   "print what would be revoked and released; nothing is recorded");
  on_run(revoke, rt, [revoke_flags](Runtime& r) { return run_revoke(r, *revoke_flags); });

  auto confirm_user = std::make_shared<std::string>();
  auto* confirm = user->add_subcommand(
      "confirm", "The user has installed their newest certificate: release held revocations");
  confirm->add_option("USER", *confirm_user, "User id")->required();
  on_run(confirm, rt, [confirm_user](Runtime& r) { return run_confirm(r, *confirm_user); });

  auto enable_user = std::make_shared<std::string>();
  auto* enable = user->add_subcommand(
      "enable", "Re-admit a user whose current certificate was revoked, so renew works again");
  enable->add_option("USER", *enable_user, "User id")->required();
  enable->footer(
      "Revoking a user's current certificate (user revoke) disables the user: `user renew`\n"
      "is refused, so a user who left does not come back by a routine renewal. This command\n"
      "lifts that (audited); then `user renew USER` issues a new certificate.");
  on_run(enable, rt, [enable_user](Runtime& r) { return run_enable(r, *enable_user); });

  auto* list = user->add_subcommand("list", "List users and their current certificate");
  on_run(list, rt, [](Runtime& r) { return run_list(r); });

  auto show_user = std::make_shared<std::string>();
  auto* show = user->add_subcommand("show", "A user's profile, certificates, notes and history");
  show->add_option("USER", *show_user, "User id")->required();
  on_run(show, rt, [show_user](Runtime& r) { return run_show(r, *show_user); });
}

}  // namespace ck::cli
