#pragma once
// Shell completion from the command tree the binary parses with. The bash
// and zsh scripts are a few lines that hand the words typed so far to
// `certkeeper __complete words -- WORD...` and offer what it prints, so a
// completion can never lag behind the options of the installed binary.
//
// Output protocol (one candidate per line): plain words, or a single
// directive line the script turns into the shell's own file completion:
// ":file" (any file), ":file:EXT" (files ending .EXT, and folders), ":dir".

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/help_format.h"

namespace ck::cli {

struct Completion {
  std::vector<std::string> lines;  // candidates, or one directive line
};

/// What may come at the end of `words` (the words after the program name;
/// the last one is the word being completed, possibly empty). `users` lists
/// the store's user names for a USER argument or option; it is called only
/// then, with the walk of the words before (for --home and --store).
[[nodiscard]] Completion complete(
    const CLI::App& app, const std::vector<std::string>& words,
    const std::function<std::vector<std::string>(const CommandWalk&)>& users);

/// The completion script for `shell` ("bash" or "zsh"); empty for another.
[[nodiscard]] std::string completion_script(const std::string& shell);

}  // namespace ck::cli
