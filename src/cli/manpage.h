#pragma once
// Manual pages written from the CLI11 command tree the binary parses with,
// so a page can never name an option the program does not take (or miss one
// it does): certkeeper(1) for the program, its global options and the list
// of commands, and certkeeper-GROUP(1) for each top-level command with every
// command under it.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ck::cli {

struct ManPage {
  std::string file;  // "certkeeper.1", "certkeeper-user.1"
  std::string text;  // roff (man macros)
};

/// Every page for `app`. `version` goes into the footer; `date` (YYYY-MM-DD,
/// from SOURCE_DATE_EPOCH in a package build) into the header.
[[nodiscard]] std::vector<ManPage> man_pages(const CLI::App& app, const std::string& version,
                                             const std::string& date);

/// `text` as roff body text: backslashes and hyphens escaped, a line that
/// would start with a control character made literal.
[[nodiscard]] std::string roff_escape(const std::string& text);

}  // namespace ck::cli
