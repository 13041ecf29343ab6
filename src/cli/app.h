#pragma once

namespace ck::cli {

/// Runs certkeeper with its command line; returns the process exit code.
int run(int argc, char** argv);

}  // namespace ck::cli
