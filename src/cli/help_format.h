#pragma once
// How `--help` shows options, and what a mistyped command is told.
//
// CLI11's own formatter prints what its parser knows, not what an operator
// needs: an empty list default as `=[]`, the type and the validator joined
// (`TEXT:DURATION=365d`), `TEXT` beside every positional. HelpFormatter
// prints one word for what a value is (`DURATION`, `{modern,compat}`, the
// option's own type name), puts a default into the description as
// "(default: 365d)", and leaves out what says nothing.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ck::cli {

class HelpFormatter : public CLI::Formatter {
 public:
  HelpFormatter();
  std::string make_option_opts(const CLI::Option* opt) const override;
  std::string make_option_desc(const CLI::Option* opt) const override;
};

/// What an option's value is, as help and man pages name it: the validator's
/// word over CLI11's generic TEXT/INT/UINT, "" for a flag.
[[nodiscard]] std::string value_name(const CLI::Option& opt);

/// The default worth showing ("" for none, an empty list or an empty text).
[[nodiscard]] std::string shown_default(const CLI::Option& opt);

/// The command path the words name, as far as they name one, and the first
/// word that should have named a command but does not (with the commands
/// that were possible there). `args` are the words after the program name.
struct CommandWalk {
  std::vector<const CLI::App*> path;          // the program, then each command named
  std::optional<std::string> unknown;         // the word that named no command
  bool missing = false;                       // the words end where a command was needed
  const CLI::Option* awaiting = nullptr;      // the words end with this option, its value next
  std::size_t arguments = 0;                  // positional words given to the command
  std::map<std::string, std::string> values;  // "--home" → its value, as given
};
[[nodiscard]] CommandWalk walk_commands(const CLI::App& app, const std::vector<std::string>& args);

/// "unknown command 'usr' (did you mean 'user'?)" or "'certkeeper user'
/// needs a command: create, renew, ..." when the words stop short; nullopt
/// when the words name a command (the parse error is about something else).
[[nodiscard]] std::optional<std::string> command_error(const CLI::App& app,
                                                       const std::vector<std::string>& args);
/// The same from a walk already made.
[[nodiscard]] std::optional<std::string> command_error(const CommandWalk& walk);

/// The visible commands under `app` (help's list; hidden ones have no group).
[[nodiscard]] std::vector<const CLI::App*> visible_commands(const CLI::App& app);

/// The names among `candidates` closest to `word` (edit distance at most a
/// third of its length, at least 1, or `word` a prefix), best first.
[[nodiscard]] std::vector<std::string> closest(const std::string& word,
                                               const std::vector<std::string>& candidates);

}  // namespace ck::cli
