// Commands about certkeeper itself, hidden from help (no group): the build
// writes the manual pages and completion scripts with them, and the shells'
// completion asks `__complete words` for candidates.

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/manpage.h"
#include "core/file_io.h"

namespace ck::cli {

namespace {

Exit write_man_pages(const CLI::App& app, const std::string& dir, const std::string& date) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return fail(Code::PermissionDenied, "cannot create '" + dir + "': " + ec.message());
  for (const auto& page : man_pages(app, CK_VERSION, date)) {
    CK_TRY(write_file_atomic(std::filesystem::path(dir) / page.file, page.text, 0644));
  }
  return kExitOk;
}

// User names for a completion; nothing (and no message) when the store the
// words point at cannot be read or is not a local file.
std::vector<std::string> user_names(Runtime& rt, const CommandWalk& walk) {
  const auto given = [&](const char* name, std::string& into) {
    if (const auto it = walk.values.find(name); it != walk.values.end())
      into = it->second;
  };
  given("--home", rt.global.home);
  given("--store", rt.global.store_url);
  given("--config", rt.global.config);
  std::vector<std::string> names;
  // Only a store in a local file: a database server that does not answer
  // would hold the shell for its connection timeout on every TAB.
  const auto url = rt.resolve_store_url();
  if (!url || !store::local_file(*url))
    return names;
  auto auth = rt.authority();
  if (!auth)
    return names;
  auto users = (*auth)->list_users();
  if (!users)
    return names;
  for (const auto& u : *users)
    names.push_back(u.profile.name);
  return names;
}

Exit run_complete(Runtime& rt, const CLI::App& app, std::vector<std::string> args) {
  if (!args.empty() && args.front() == "--")
    args.erase(args.begin());
  if (args.empty())
    return fail(Code::InvalidArgument, "__complete: words, users or script SHELL");
  const std::string kind = args.front();
  args.erase(args.begin());
  if (kind == "script") {
    const std::string script = completion_script(args.empty() ? "" : args.front());
    if (script.empty())
      return fail(Code::InvalidArgument, "__complete script: bash or zsh");
    std::cout << script;
    return kExitOk;
  }
  if (kind == "users") {
    for (const auto& n : user_names(rt, walk_commands(app, args)))
      std::cout << n << "\n";
    return kExitOk;
  }
  if (kind == "words") {
    if (!args.empty() && args.front() == "--")
      args.erase(args.begin());
    const auto c =
        complete(app, args, [&rt](const CommandWalk& walk) { return user_names(rt, walk); });
    for (const auto& line : c.lines)
      std::cout << line << "\n";
    return kExitOk;
  }
  return fail(Code::InvalidArgument, "__complete: unknown kind '" + kind + "'");
}

}  // namespace

void add_meta_commands(CLI::App& app, Runtime& rt) {
  auto dir = std::make_shared<std::string>();
  auto date = std::make_shared<std::string>();
  auto* man = app.add_subcommand("__man", "Write the manual pages into DIR")->group("");
  man->add_option("DIR", *dir, "Folder for the pages")->required();
  man->add_option("--date", *date, "The pages' date (YYYY-MM-DD)");
  const CLI::App* root = &app;
  on_run(man, rt, [root, dir, date](Runtime&) { return write_man_pages(*root, *dir, *date); });

  auto* comp =
      app.add_subcommand("__complete", "Completion candidates for the words typed")->group("");
  // Every word after the kind is its argument: the words typed so far may
  // hold any option, and must not fall through to the program.
  comp->prefix_command();
  comp->fallthrough(false);
  on_run(comp, rt, [root, comp](Runtime& r) { return run_complete(r, *root, comp->remaining()); });
}

}  // namespace ck::cli
