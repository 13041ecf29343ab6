#!/usr/bin/env bash
# A full scan of 10,000 TLS endpoints on loopback: ten nginx instances, each
# listening on 1,000 ports (bench/lib.sh start_tls_fleet, each with its own
# throwaway CA), probed by certkeeper with every chain verified. Prints the
# wall time, handshakes/s, CPU and peak memory of the scan at the default
# --concurrency (256) and at 1,000, with the default --threads (the cores) and
# with one loop. Never fails on timings.
#
# usage: bench/probe_10k.sh   (env: INSTANCES=10 PER_INSTANCE=1000 BASE_PORT=20000)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need nginx openssl curl /usr/bin/python3
need_certkeeper
INSTANCES=${INSTANCES:-10}
PER_INSTANCE=${PER_INSTANCE:-1000}
BASE_PORT=${BASE_PORT:-20000}
MEASURE=$BENCH_ROOT/bench/measure.py
total=$((INSTANCES * PER_INSTANCE))
(( BASE_PORT + total <= 32768 )) || die "ports must stay below 32768 (the ephemeral range)"

work=
scratch work
cd "$work"
masters=() pids=""
trap 'kill ${masters[*]:-} 2>/dev/null || true; bench_cleanup' EXIT
for ((i = 0; i < INSTANCES; i++)); do
  mkdir -p "$work/n$i"
  start_tls_fleet "$work/n$i" "$PER_INSTANCE" $((BASE_PORT + i * PER_INSTANCE))
  masters+=("$FLEET_PID")
  pids+="${pids:+,}$FLEET_PIDS"
  cat "$work/n$i/ca.pem" >> ca.pem
done
for ((p = BASE_PORT; p < BASE_PORT + total; p++)); do echo "127.0.0.1:$p"; done > targets
note "fleet: $INSTANCES nginx instances x $PER_INSTANCE ports from $BASE_PORT"

scan() {  # scan LABEL ARGS... : one full scan, every chain verified, one table row
  local label=$1 out ok
  shift
  out=$(/usr/bin/python3 "$MEASURE" --watch "nginx=$pids" --stdout scan.out -- \
    "$CERTKEEPER" probe --json --ca-file ca.pem --targets-file targets "$@")
  ok=$(grep -c '"ok":true,.*"verified":true' scan.out || true)
  [[ $ok == "$total" ]] || die "$label: only $ok of $total probes verified: $(grep -m1 '"ok":false' scan.out)"
  /usr/bin/python3 - "$label" "$out" "$total" <<'PY'
import json, sys
label, d, n = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
print(f"| {label} | {n} | {d['wall_s']:.2f} | {n / d['wall_s']:.0f} | {d['cpu_s'] / n * 1e6:.0f} | "
      f"{d['watched_cpu_s']['nginx'] / n * 1e6:.0f} | {d['maxrss_kib'] / 1024:.1f} |")
PY
}

echo
echo "TLS probing, $total endpoints ($INSTANCES nginx x $PER_INSTANCE ports, ECDSA P-256), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "certkeeper $("$CERTKEEPER" --version | awk '{print $NF}'), chain verified; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| scan | endpoints | wall s | handshakes/s | certkeeper CPU µs/handshake | nginx CPU µs/handshake | certkeeper peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row_default=$(scan "--concurrency 256 (default), --threads $(nproc) (default)")
echo "$row_default"
scan "--concurrency 1000, --threads $(nproc)" --concurrency 1000
scan "--concurrency 256, --threads 1" --threads 1
/usr/bin/python3 - "$row_default" <<'PY'
import os, sys
cells = [c.strip() for c in sys.argv[1].strip("|").split("|")]
path = os.environ.get("BENCH_SUMMARY")
if path:
    with open(path, "a") as f:
        f.write("\t".join([os.environ.get("BENCH_NAME", "probe_10k"), f"probe, {cells[1]} endpoints, full scan",
                           f"{cells[2]} s, peak {cells[6]} MiB", "", "", "report", "reported"]) + "\n")
PY
