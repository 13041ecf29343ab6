#!/usr/bin/python3
"""Runs a command and reports, as one JSON object on stdout, its wall time, the
CPU time and peak RSS of the command and its children (getrusage), and the CPU
time each watched long-running process (nginx, blackbox_exporter) spent
meanwhile (/proc/PID/stat) with its peak RSS (VmHWM).

usage: measure.py [--watch NAME=PID[,PID...]]... [--stdout FILE] -- COMMAND...
"""
import json, os, resource, subprocess, sys, time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


args = sys.argv[1:]
watch, out = {}, None
while args and args[0] != "--":
    opt = args.pop(0)
    if opt == "--watch":
        name, pids = args.pop(0).split("=", 1)
        watch[name] = [int(p) for p in pids.split(",") if p]
    elif opt == "--stdout":
        out = args.pop(0)
    else:
        sys.exit(f"unknown option {opt}")
cmd = args[1:]
before = {n: sum(cpu_seconds(p) for p in ps) for n, ps in watch.items()}
t0 = time.monotonic()
with open(out or os.devnull, "w") as sink:
    rc = subprocess.run(cmd, stdout=sink).returncode
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "rc": rc,
    "wall_s": wall,
    "cpu_s": ru.ru_utime + ru.ru_stime,
    "maxrss_kib": ru.ru_maxrss,
    "watched_cpu_s": {n: sum(cpu_seconds(p) for p in ps) - before[n] for n, ps in watch.items()},
    "watched_hwm_kib": {n: max(hwm_kib(p) for p in ps) for n, ps in watch.items()},
}))
