#pragma once

#include <CLI/CLI.hpp>

#include "cli/runtime.h"

namespace ck::cli {

/// The program's description, global options and every command, bound to
/// `rt` (what run() parses with; the tests read the same tree).
void define_commands(CLI::App& app, Runtime& rt);

/// Runs certkeeper with its command line; returns the process exit code.
int run(int argc, char** argv);

}  // namespace ck::cli
