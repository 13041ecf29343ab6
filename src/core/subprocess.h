#pragma once
// Running an external command (an SMS gateway CLI, a publish hook) without a
// shell: argv as given, a secret only ever on its standard input.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace ck {

struct ProcessResult {
  int exit_code = 0;   // 128+N when killed by signal N
  std::string output;  // stdout and stderr, interleaved; the last 64 KiB
};

/// Runs argv[0] (searched in PATH) with `input` on stdin and waits for it,
/// in certkeeper's environment minus the secrets it reads from there
/// (CERTKEEPER_CA_PASSPHRASE, _SMTP_PASSWORD, _CONDUIT_TOKEN, _WEBHOOK_TOKEN),
/// killing it after `timeout`. An error means it could not run at all or timed
/// out; a non-zero exit is a result, not an error.
[[nodiscard]] Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                                std::string_view input,
                                                std::chrono::milliseconds timeout);

}  // namespace ck
