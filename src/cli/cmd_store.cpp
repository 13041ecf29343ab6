#include <iostream>

#include "cli/commands.h"
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
  } else if (outcome.before == outcome.after) {
    std::cout << shown << ": at schema version " << outcome.after << ", nothing to do\n";
  } else {
    std::cout << shown << ": migrated from schema version " << outcome.before << " to "
              << outcome.after << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_store_commands(CLI::App& app, Runtime& rt) {
  auto* store = app.add_subcommand(
      "store", "The store itself: its schema (PostgreSQL is migrated only by this command)");
  store->require_subcommand(1);
  auto* migrate = store->add_subcommand(
      "migrate",
      "Bring the store to this certkeeper's schema. PostgreSQL: every step in its own\n"
      "transaction, under a lock (two hosts upgrading at once apply each step once); every\n"
      "other command refuses a database not migrated, or migrated by a newer certkeeper.\n"
      "SQLite is migrated when opened; this reports its version.");
  on_run(migrate, rt, [](Runtime& r) { return run_store_migrate(r); });
}

}  // namespace ck::cli
