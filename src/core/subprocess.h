#pragma once
// Running an external command (an SMS gateway CLI, a publish hook) without a
// shell: argv as given, a secret only ever on its standard input.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/process_group.h"

namespace ck {

struct ProcessResult {
  int exit_code = 0;   // 128+N when killed by signal N
  std::string output;  // stdout and stderr, interleaved; the last 64 KiB
};

/// Runs argv[0] (searched in PATH) with `input` on stdin and waits for it,
/// in certkeeper's environment minus the secrets it reads from there
/// (CERTKEEPER_CA_PASSPHRASE, _SMTP_PASSWORD, _CONDUIT_TOKEN, _WEBHOOK_TOKEN),
/// ending it after `timeout`. It runs as the leader of its own process group,
/// and ending it ends the group: whatever it started gets SIGTERM, then
/// SIGKILL after `grace` (see process_group.h); so does a command running
/// when certkeeper gets SIGINT, SIGTERM or SIGHUP, before certkeeper goes.
/// A command that exits on its own keeps what it started in the background
/// (a service it launched). An error means it could not run at all, timed out
/// or was interrupted; a non-zero exit is a result, not an error.
[[nodiscard]] Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                                std::string_view input,
                                                std::chrono::milliseconds timeout,
                                                std::chrono::milliseconds grace = kTerminateGrace);

}  // namespace ck
