#!/usr/bin/env python3
"""Runs a command with a terminal for its stdin, as a person at a shell would.

usage: tty_run.py TRANSCRIPT ANSWER... -- COMMAND ARG...

The command gets a new pseudo-terminal as its controlling terminal and stdin;
its stdout and stderr stay this script's (so a test reads them apart from the
prompts). Each time the terminal shows a prompt (text ending in ": "), the
next ANSWER is typed, followed by Enter. Everything the terminal showed is
written to TRANSCRIPT, so a test can check that a typed passphrase was not
echoed. Exits with the command's exit status; after 60 s the command is
killed and the exit status is 124.
"""
import fcntl
import os
import select
import signal
import sys
import termios
import time


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    transcript_path, answers, command = args[0], args[1:sep], args[sep + 1:]
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        os.dup2(slave, 0)
        os.close(slave)
        os.execvp(command[0], command)
    os.close(slave)
    shown = b""
    prompts_answered = 0
    deadline = time.monotonic() + 60
    status = None
    while True:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = 124
            break
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                chunk = b""
            shown += chunk
            if shown.rstrip(b"\r\n").endswith(b":") or shown.endswith(b": "):
                if shown.count(b": ") > prompts_answered and prompts_answered < len(answers):
                    os.write(master, answers[prompts_answered].encode() + b"\n")
                    prompts_answered += 1
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            # What the terminal still holds.
            while select.select([master], [], [], 0.1)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                shown += chunk
            status = os.waitstatus_to_exitcode(code)
            break
    with open(transcript_path, "wb") as f:
        f.write(shown)
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
