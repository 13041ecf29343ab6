#pragma once
// Running an external command (an SMS gateway CLI, a publish hook) without a
// shell: argv as given, a secret only ever on its standard input.

#include <chrono>
#include <functional>
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
/// `extra_env` ("NAME=VALUE") is added to the environment, replacing an
/// inherited variable of the same name.
[[nodiscard]] Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                                std::string_view input,
                                                std::chrono::milliseconds timeout,
                                                std::chrono::milliseconds grace = kTerminateGrace,
                                                const std::vector<std::string>& extra_env = {});

/// How run_command names a command in its errors and what it keeps of the
/// command's output.
struct CommandOptions {
  std::string_view input;  // on its stdin
  std::chrono::milliseconds timeout{60000};
  /// How an error names the command ("reload '/usr/local/bin/reload'");
  /// empty: its program in quotes ("'/usr/local/bin/reload'").
  std::string name;
  /// Applied to the output before it is kept or quoted (masking secrets,
  /// keeping a journal's tail); none keeps it as it came.
  std::function<std::string(std::string)> filter;
  /// The exit error quotes the output's last line; off for a command handed
  /// a secret, which it might echo.
  bool quote_output = true;
  /// An error of the run itself (it could not start, timed out, was
  /// interrupted) starts with "<name>: " too, as a journal entry that names
  /// each failure by its command wants.
  bool name_run_errors = false;
  /// Added to its environment ("NAME=VALUE"; see run_process).
  std::vector<std::string> env;
};

/// Runs `argv` (run_process); an exit other than 0 is an error (Unavailable)
/// "<name> exited with N: <last line of the output>". `output`, when given,
/// receives the filtered output whenever the command ran, failed or not.
[[nodiscard]] Status run_command(const std::vector<std::string>& argv,
                                 const CommandOptions& options, std::string* output = nullptr);

/// The last line a command printed, as a terminal would show it: "\n",
/// "\r\n" and a lone "\r" (a progress line overwritten in place) all end a
/// line, blank lines are skipped, and trailing blanks are dropped. Empty when
/// the output has no visible text.
[[nodiscard]] std::string last_line(std::string_view output);

/// "<name> exited with N", then ": <line>" when `line` is not empty.
[[nodiscard]] std::string exit_message(std::string_view name, int exit_code, std::string_view line);

}  // namespace ck
