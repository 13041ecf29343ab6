#pragma once
// Asking the person at the terminal for a passphrase, echo off: how `ca init`
// and `ca import` get one when none is configured, how `ca passphrase change`
// gets the new one, and how an interactive command opens an encrypted CA key
// without the passphrase in the environment. Only the controlling terminal
// (/dev/tty) is used, so --json output on stdout stays clean and a piped
// stdin is never read as a passphrase.

#include <string_view>

#include "core/error.h"
#include "core/pem.h"

namespace ck::cli {

/// Whether a person can be asked: stdin is a terminal and /dev/tty opens.
[[nodiscard]] bool can_ask_passphrase();

/// Asks once: writes `prompt` to /dev/tty, reads one line with echo off.
/// The terminal's settings come back even when the run is interrupted.
/// An empty line is an empty Secret; end of input is an error.
[[nodiscard]] Result<Secret> ask_passphrase(std::string_view prompt);

/// Asks twice for a passphrase that will protect `what`; an empty one or
/// two that differ is an error (nothing is retried: the command is run again).
[[nodiscard]] Result<Secret> ask_new_passphrase(std::string_view what);

}  // namespace ck::cli
