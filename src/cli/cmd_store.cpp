#include <filesystem>
#include <iostream>

#include "ca/crl_codec.h"
#include "cli/commands.h"
#include "core/file_io.h"
#include "store/backup.h"
#include "store/copy.h"
#include "store/store.h"

namespace ck::cli {
namespace {

Exit run_store_migrate(Runtime& rt) {
  CK_ASSIGN(const auto url, rt.resolve_store_url());
  CK_ASSIGN(const auto outcome, store::migrate_store(url));
  const std::string shown = store::display_url(url);
  if (rt.json()) {
    rt.print_json({{"store", shown},
                   {"schema_before", outcome.before},
                   {"schema", outcome.after},
                   {"migrated", outcome.before != outcome.after}});
  } else if (rt.quiet()) {
  } else if (outcome.before == outcome.after) {
    std::cout << shown << ": at schema version " << outcome.after << ", nothing to do\n";
  } else {
    std::cout << shown << ": migrated from schema version " << outcome.before << " to "
              << outcome.after << "\n";
  }
  return kExitOk;
}

struct CopyFlags {
  std::string from;
  std::string to;
};

Exit run_store_copy(Runtime& rt, const CopyFlags& f) {
  std::string from = f.from;
  if (from.empty()) {
    CK_ASSIGN(from, rt.resolve_store_url());
  }
  if (from == f.to)
    return fail(Code::InvalidArgument, "--from and --to name the same store");
  CK_ASSIGN(auto source, store::open_store(from, store::OpenMode::Existing));
  // A new SQLite file is made for the copy; if the copy fails it is removed
  // again, so a failed copy leaves no half-store behind to be mistaken for one.
  const auto file = store::local_file(f.to);
  std::error_code ec;
  const bool created = file && !std::filesystem::exists(*file, ec);
  auto copied = [&]() -> Result<store::CopyReport> {
    CK_ASSIGN(auto dest, store::open_store(f.to, store::OpenMode::Create));
    const auto step = terminal_progress(rt);
    return store::copy_store(*source, *dest,
                             [&](std::string_view table, std::int64_t done, std::int64_t total) {
                               step("copying " + std::string(table) + ": " + std::to_string(done) +
                                    " of " + std::to_string(total) + " rows");
                             });
  }();
  if (!copied) {
    if (created) {
      for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(file->string() + suffix, ec);
    }
    return fail(std::move(copied).error().context("store copy"));
  }
  const auto& report = *copied;
  const std::string shown_from = store::display_url(from);
  const std::string shown_to = store::display_url(f.to);
  if (rt.json()) {
    nlohmann::json tables = nlohmann::json::object();
    for (const auto& t : report.tables)
      tables[t.table] = t.rows;
    rt.print_json({{"from", shown_from},
                   {"to", shown_to},
                   {"rows", report.rows},
                   {"tables", tables},
                   {"crl_number", report.crl_number}});
    return kExitOk;
  }
  if (rt.quiet())
    return kExitOk;
  std::cout << "copied " << report.rows << " rows from " << shown_from << " to " << shown_to
            << " (row counts compared table by table):\n";
  for (const auto& t : report.tables) {
    if (t.rows > 0)
      std::cout << "  " << t.table << ": " << t.rows << "\n";
  }
  std::cout << "last CRL number " << report.crl_number << ": the next CRL from either store is "
            << report.crl_number + 1
            << "; let only one of them build CRLs from now on (docs/operations.md, \"Moving "
               "a store\")\n";
  return kExitOk;
}

Exit run_store_reconcile(Runtime& rt, const std::string& crl) {
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(const auto* cfg, rt.config());
  // The file `crl build` publishes to: the one a restored store is behind.
  const std::filesystem::path file = !crl.empty()   ? std::filesystem::path(crl)
                                     : cfg->crl_out ? *cfg->crl_out
                                                    : rt.home() / "ca.crl";
  CK_ASSIGN(const auto r, auth->reconcile_crl(file));
  if (rt.json()) {
    rt.print_json({{"crl", file.string()},
                   {"published_number", r.published_number},
                   {"store_number_before", r.store_before},
                   {"changed", r.changed},
                   {"entries", r.entries},
                   {"already_revoked", r.already},
                   {"released", r.released},
                   {"revoked", r.revoked},
                   {"unknown_certificates", r.unknown}});
    return kExitOk;
  }
  if (rt.quiet())
    return kExitOk;
  if (!r.changed) {
    std::cout << file.string() << " is CRL #" << r.published_number << "; the store is at #"
              << r.store_before << " already: nothing to reconcile\n";
    return kExitOk;
  }
  std::cout << "reconciled the store (last CRL #" << r.store_before << ") with " << file.string()
            << " (CRL #" << r.published_number << ", " << r.entries << " entries):\n"
            << "  " << r.already << " revoked in the store already\n"
            << "  " << r.released << " held revocations released (published as revoked)\n"
            << "  " << r.revoked << " certificates the store had as valid, revoked\n"
            << "  " << r.unknown
            << " serials of certificates the store never saw, kept in every CRL from now on\n"
            << "the next `crl build` is #" << r.published_number + 1 << " and lists everything #"
            << r.published_number << " listed\n";
  return kExitOk;
}

Exit run_store_backup(Runtime& rt, const std::string& file) {
  CK_ASSIGN(auto* source, rt.store());
  const auto step = terminal_progress(rt);
  CK_ASSIGN(const auto written,
            store::backup_store(
                *source, file, [&](std::string_view table, std::int64_t done, std::int64_t total) {
                  step("backing up " + std::string(table) + ": " + std::to_string(done) + " of " +
                       std::to_string(total) + " rows");
                }));
  const std::string from = source->describe();
  if (rt.json()) {
    rt.print_json({{"store", store::display_url(from)},
                   {"file", written.file.string()},
                   {"rows", written.copy.rows},
                   {"crl_number", written.copy.crl_number}});
    return kExitOk;
  }
  if (rt.quiet())
    return kExitOk;
  std::cout << "backed up " << store::display_url(from) << " to " << written.file.string() << " ("
            << written.copy.rows << " rows, one snapshot; last CRL #" << written.copy.crl_number
            << "); check it with `certkeeper store verify " << written.file.string() << "`\n";
  return kExitOk;
}

Exit run_store_verify(Runtime& rt, const std::string& file) {
  // Everything is read from a private copy: the backup itself stays as it
  // was (and may be read-only). Messages name the backup, not the copy.
  CK_ASSIGN(const auto copy, store::private_copy(file));
  const auto named = [&](Error e) {
    const std::string temp = copy.path().string();
    for (auto at = e.message.find(temp); at != std::string::npos; at = e.message.find(temp, at))
      e.message.replace(at, temp.size(), file);
    return e;
  };
  CK_ASSIGN(const auto check, store::check_backup_file(copy.path()).map_error(named));
  if (check.integrity != "ok")
    return fail(Code::Storage, "backup '" + file + "' is damaged: " + check.integrity);
  if (check.schema != check.current_schema) {
    return fail(Code::FailedPrecondition,
                "backup '" + file + "' is at schema version " + std::to_string(check.schema) +
                    ", this certkeeper's is " + std::to_string(check.current_schema) +
                    ": verify it with the certkeeper that wrote it (restoring it with this one "
                    "would migrate it)");
  }
  CK_ASSIGN(auto backup,
            store::open_store("sqlite:" + copy.path().string(), store::OpenMode::Existing)
                .map_error(named));
  CK_ASSIGN(auto auth, rt.authority_for(*backup));
  CK_ASSIGN(const auto ca, auth->check_key().map_error([&](Error e) {
    return std::move(e).context("backup '" + file + "'");
  }));
  CK_ASSIGN(const auto crl, auth->crl_status(std::chrono::seconds(0), false));
  CK_ASSIGN(const auto users, auth->list_users());
  // The CRL this home publishes: newer than the backup's last, a restore
  // needs `store reconcile` before the next build (which refuses until then).
  CK_ASSIGN(const auto* cfg, rt.configuration());  // the home's store is not needed
  const std::filesystem::path published = cfg->crl_out ? *cfg->crl_out : rt.home() / "ca.crl";
  std::optional<std::int64_t> published_number;
  if (auto bytes = read_file(published); bytes) {
    if (const auto der = ca::crl_der_of(*bytes)) {
      if (auto parsed = ca::parse_crl_der(*der, nullptr); parsed)
        published_number = parsed->number;
    }
  }
  const std::int64_t last = crl.last_number.value_or(0);
  const bool behind = published_number && *published_number > last;
  const std::string key_where = !ca.key_uri.empty() ? "in the token " + ca.key_uri
                                : ca.key_encrypted  ? "encrypted in the store, decrypts"
                                                    : "in the store, not encrypted";
  if (rt.json()) {
    rt.print_json(
        {{"file", file},
         {"integrity", check.integrity},
         {"schema", check.schema},
         {"ca", ca.name},
         {"ca_key", key_where},
         {"users", users.size()},
         {"last_crl", crl.last_number ? nlohmann::json(*crl.last_number) : nullptr},
         {"last_crl_at", crl.this_update ? nlohmann::json(iso(*crl.this_update)) : nullptr},
         {"held", crl.held.size()},
         {"published_crl", published.string()},
         {"published_number", published_number ? nlohmann::json(*published_number) : nullptr},
         {"needs_reconcile", behind}});
    return kExitOk;
  }
  const auto say_behind = [&] {
    if (behind) {
      std::cout << "  " << published.string() << " holds CRL #" << *published_number
                << ", newer: after restoring this backup, run `certkeeper store reconcile --crl "
                << published.string() << "` before the next `crl build` (it refuses until then)\n";
    }
  };
  if (rt.quiet()) {
    say_behind();  // a problem to act on: said even with --quiet
    return kExitOk;
  }
  std::cout << "backup " << file << ": integrity ok, schema " << check.schema << "\n"
            << "  CA '" << ca.name << "': key " << key_where << ", matches the CA certificate\n"
            << "  " << users.size() << " users, " << crl.held.size() << " held revocations\n"
            << "  last CRL: "
            << (crl.last_number ? "#" + std::to_string(*crl.last_number) + " of " +
                                      iso(crl.this_update.value_or(Seconds{}))
                                : std::string("none"))
            << "\n";
  say_behind();
  return kExitOk;
}

// A store command with one FILE argument.
void add_file_command(CLI::App* group, Runtime& rt, const char* name, const char* description,
                      const char* file_help, Exit (*run)(Runtime&, const std::string&)) {
  auto file = std::make_shared<std::string>();
  auto* cmd = group->add_subcommand(name, description);
  cmd->add_option("FILE", *file, file_help)->required();
  on_run(cmd, rt, [file, run](Runtime& r) { return run(r, *file); });
}

}  // namespace

void add_store_commands(CLI::App& app, Runtime& rt) {
  auto* store = app.add_subcommand(
      "store",
      "The store itself: its schema (PostgreSQL is migrated only by `store migrate`), copying it,\n"
      "backing it up and checking a backup, reconciling it with a published CRL after a restore");
  store->require_subcommand(1);
  auto* migrate = store->add_subcommand(
      "migrate",
      "Bring the store to this certkeeper's schema. PostgreSQL: every step in its own\n"
      "transaction, under a lock (two hosts upgrading at once apply each step once); every\n"
      "other command refuses a database not migrated, or migrated by a newer certkeeper.\n"
      "SQLite is migrated when opened; this reports its version.");
  on_run(migrate, rt, [](Runtime& r) { return run_store_migrate(r); });

  auto copy_flags = std::make_shared<CopyFlags>();
  auto* copy = store->add_subcommand(
      "copy",
      "Copy every row of a store into a new one: SQLite to PostgreSQL when a team outgrows\n"
      "one home, and back. The source is read as one snapshot, the destination written in\n"
      "one transaction (all or nothing) and must be empty: a new SQLite file, or a\n"
      "PostgreSQL database after `store migrate`. Row counts are compared table by table\n"
      "before committing; the CRL number travels, so the next CRL numbers above every\n"
      "one published. Stop the timers first: writes after the snapshot are not copied.");
  copy->add_option("--from", copy_flags->from,
                   "Store to read (sqlite:PATH or postgresql://...; default: this home's store)");
  copy->add_option("--to", copy_flags->to, "Store to write (sqlite:PATH or postgresql://...)")
      ->required();
  on_run(copy, rt, [copy_flags](Runtime& r) { return run_store_copy(r, *copy_flags); });

  auto reconcile_crl = std::make_shared<std::string>();
  auto* reconcile = store->add_subcommand(
      "reconcile",
      "After restoring the store from an older copy: take back what the CRL published\n"
      "since listed. Its revocations are released in the store (a certificate it had as\n"
      "valid is revoked), serials of certificates the store never saw are kept in every\n"
      "later CRL, and the CRL becomes the store's last, so the next `crl build` numbers\n"
      "above it and drops nothing it listed. The CRL must be this CA's (its signature is\n"
      "checked). `crl build` refuses to run until this is done.");
  reconcile->add_option("--crl", *reconcile_crl,
                        "The published CRL, PEM or DER (default: [crl] out, else HOME/ca.crl)");
  on_run(reconcile, rt,
         [reconcile_crl](Runtime& r) { return run_store_reconcile(r, *reconcile_crl); });

  add_file_command(
      store, rt, "backup",
      "Write a consistent copy of the store to FILE while other commands go on: one\n"
      "snapshot, as a SQLite file of its own (from SQLite or PostgreSQL), 0600, durable\n"
      "before it is named FILE; an existing FILE is never overwritten. Check it with\n"
      "`store verify FILE`; restore it as docs/operations.md (\"Restore\") says.",
      "The new backup file", run_store_backup);
  add_file_command(
      store, rt, "verify",
      "Check a backup made by `store backup` without changing it: SQLite's integrity check,\n"
      "its schema version (this certkeeper's), the CA key opens with this run's passphrase\n"
      "(or token) and matches the CA certificate, its CRL state; and whether the CRL this\n"
      "home publishes is newer (then a restore needs `store reconcile`). Exit 1 on any\n"
      "problem.",
      "The backup file", run_store_verify);
}

}  // namespace ck::cli
