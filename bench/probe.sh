#!/usr/bin/env bash
# TLS probing speed over a fleet of N endpoints on loopback: one nginx
# listening on N ports (ECDSA P-256, TLSv1.2+1.3), probed in the same run.
#
# Pinned (the targets of issue 19): nginx on core 0, every prober on core 1
# (taskset), so that throughput and CPU measure the prober's own cost:
#   certkeeper probe (chain verified, --ca-file; one loop: one core),
#   Prometheus blackbox_exporter (tcp module, tls: true) driven by one
#     curl -Z --parallel-max 64 (both on core 1),
#   ck_bench_tls_floor: a bare OpenSSL client doing the same handshakes one
#     after another (bench/tls_floor.cpp): the floor for this TLS stack,
#   xargs -P 64 openssl s_client (on a subset: it is slow).
# Unpinned: certkeeper probe --threads 2 beside nginx on both cores.
# Then certkeeper's memory per connection at --concurrency 1000.
# Prints handshakes/s, CPU µs per handshake of the prober and of nginx, how
# busy the cores were, and peak RSS. Never fails on timings.
#
# usage: bench/probe.sh   (env: ENDPOINTS=1000 ROUNDS=5 BASE_PORT=20000
#                          CONCURRENCY=256 OPENSSL_N=300 BB_PORT=19115)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need nginx openssl curl xargs taskset prometheus-blackbox-exporter /usr/bin/python3
need_certkeeper
ENDPOINTS=${ENDPOINTS:-1000}
ROUNDS=${ROUNDS:-5}
BASE_PORT=${BASE_PORT:-20000}
CONCURRENCY=${CONCURRENCY:-256}
OPENSSL_N=${OPENSSL_N:-300}
BB_PORT=${BB_PORT:-19115}
MEASURE=$BENCH_ROOT/bench/measure.py
(( BASE_PORT + ENDPOINTS <= 32768 )) || die "ports must stay below 32768 (the ephemeral range)"
(( $(nproc) >= 2 )) || die "the pinned runs need two cores (nginx on one, the prober on the other)"

FLOOR=$(build_bench_tool ck_bench_tls_floor)
work=
scratch work
cd "$work"
start_tls_fleet "$work" "$ENDPOINTS" "$BASE_PORT"
nginx_master=$FLEET_PID
trap 'kill $nginx_master ${bb_pid:-} 2>/dev/null || true; bench_cleanup' EXIT
nginx_pids=$FLEET_PIDS
pin_nginx() { for p in ${nginx_pids//,/ }; do taskset -a -p -c "$1" "$p" >/dev/null; done; }

cat > blackbox.yml <<YML
modules:
  tls_connect:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
      tls: true
      tls_config:
        ca_file: $work/ca.pem
YML
taskset -c 1 prometheus-blackbox-exporter --config.file=blackbox.yml \
  --web.listen-address="127.0.0.1:$BB_PORT" > logs/blackbox.log 2>&1 &
bb_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$BB_PORT/-/healthy" >/dev/null && break; sleep 0.1; done
curl -s "http://127.0.0.1:$BB_PORT/probe?target=127.0.0.1:$BASE_PORT&module=tls_connect" | grep -qx "probe_success 1" \
  || die "blackbox_exporter cannot probe the fleet: $(tail -3 logs/blackbox.log)"

: > targets; : > bb.curl
for ((r = 0; r < ROUNDS; r++)); do
  for ((p = BASE_PORT; p < BASE_PORT + ENDPOINTS; p++)); do
    echo "127.0.0.1:$p" >> targets
    printf 'url = "http://127.0.0.1:%s/probe?target=127.0.0.1:%s&module=tls_connect"\noutput = "/dev/null"\n' \
      "$BB_PORT" "$p" >> bb.curl
  done
done
head -n "$OPENSSL_N" targets > targets.openssl
total=$(wc -l < targets)
note "fleet: nginx on $ENDPOINTS ports from $BASE_PORT; $total handshakes per prober ($OPENSSL_N for openssl)"

measure() { /usr/bin/python3 "$MEASURE" --watch "nginx=$nginx_pids" --watch "blackbox=$bb_pid" "$@"; }
ck_verified() {  # ck_verified OUT : every probe in OUT verified, or die
  local ok
  ok=$(grep -c '"ok":true,.*"verified":true' "$1" || true)
  [[ $ok == "$total" ]] || die "certkeeper: only $ok of $total probes verified: $(grep -m1 '"ok":false' "$1")"
}

# Pinned: nginx on core 0, the prober on core 1.
pin_nginx 0
ck=$(measure --stdout ck.out -- taskset -c 1 "$CERTKEEPER" probe --json --concurrency "$CONCURRENCY" \
  --ca-file ca.pem --targets-file targets)
ck_verified ck.out
bb=$(measure -- taskset -c 1 curl -s -Z --parallel-max 64 -K bb.curl)
floor=$(measure --stdout floor.out -- taskset -c 1 "$FLOOR" ca.pem targets)
[[ $(cat floor.out) == "$total" ]] || die "the bare OpenSSL client verified only $(cat floor.out) of $total"
# (no -quiet: it implies -ign_eof, and each s_client would wait for nginx's keepalive timeout)
os=$(measure -- taskset -c 1 sh -c 'xargs -P 64 -n 1 openssl s_client -brief -verify_return_error -CAfile ca.pem -connect \
  < targets.openssl > /dev/null 2>&1')

# Unpinned: nginx and certkeeper --threads 2 share both cores.
pin_nginx 0-$(($(nproc) - 1))
ck2=$(measure --stdout ck2.out -- "$CERTKEEPER" probe --json --threads 2 --concurrency "$CONCURRENCY" \
  --ca-file ca.pem --targets-file targets)
ck_verified ck2.out
head -n 200 targets > targets.200
mem1=$(measure -- "$CERTKEEPER" probe --json --threads 1 --concurrency 1 --ca-file ca.pem --targets-file targets.200)
mem1000=$(measure -- "$CERTKEEPER" probe --json --threads 1 --concurrency 1000 --ca-file ca.pem --targets-file targets)

cores=$(nproc)
row() {  # row NAME JSON HANDSHAKES PROBER_CPU_EXPR RSS_EXPR CORES
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
name, d, n, cpu_expr, rss_expr, cores = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
prober = eval(cpu_expr)
nginx = d["watched_cpu_s"]["nginx"]
# what ran on the cores: the prober, nginx, and (for blackbox) its curl driver
busy = (d["cpu_s"] + nginx + (d["watched_cpu_s"]["blackbox"] if "blackbox" in cpu_expr else 0)) / (d["wall_s"] * cores) * 100
print(f"| {name} | {n} | {d['wall_s']:.2f} | {n / d['wall_s']:.0f} | {prober / n * 1e6:.0f} | "
      f"{nginx / n * 1e6:.0f} | {busy:.0f} % of {cores} | {eval(rss_expr) / 1024:.1f} |")
PY
}
echo
echo "TLS probing, $ENDPOINTS endpoints on one nginx (ECDSA P-256, TLSv1.2+1.3), $cores cores; $(date -u +%Y-%m-%d)"
echo "certkeeper $("$CERTKEEPER" --version | awk '{print $NF}'), --concurrency $CONCURRENCY, chain verified; blackbox_exporter $(prometheus-blackbox-exporter --version 2>&1 | awk 'NR==1{print $3}') via curl -Z --parallel-max 64; openssl s_client via xargs -P 64"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Pinned: nginx on core 0, the prober on core 1 (taskset). Unpinned: both cores for both."
echo
echo "| prober | handshakes | wall s | handshakes/s | prober CPU µs/handshake | nginx CPU µs/handshake | cores busy | prober peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
row "certkeeper probe, pinned" "$ck" "$total" 'd["cpu_s"]' 'd["maxrss_kib"]' 2
row "blackbox_exporter (+curl driver), pinned" "$bb" "$total" 'd["watched_cpu_s"]["blackbox"]' 'd["watched_hwm_kib"]["blackbox"]' 2
row "bare OpenSSL client, sequential, pinned" "$floor" "$total" 'd["cpu_s"]' 'd["maxrss_kib"]' 2
row "xargs -P 64 openssl s_client, pinned" "$os" "$OPENSSL_N" 'd["cpu_s"]' 'd["maxrss_kib"]' 2
row "certkeeper probe --threads 2, unpinned" "$ck2" "$total" 'd["cpu_s"]' 'd["maxrss_kib"]' "$cores"
echo
/usr/bin/python3 - "$ck" "$bb" "$os" "$floor" "$ck2" "$total" "$OPENSSL_N" "$mem1" "$mem1000" "$cores" <<'PY'
import json, os, sys
ck, bb, os_, floor, ck2 = (json.loads(a) for a in sys.argv[1:6])
n, n_os = int(sys.argv[6]), int(sys.argv[7])
m1, m1000 = json.loads(sys.argv[8]), json.loads(sys.argv[9])
cores = int(sys.argv[10])
ck_rate, bb_rate, os_rate, ck2_rate = n / ck["wall_s"], n / bb["wall_s"], n_os / os_["wall_s"], n / ck2["wall_s"]
ck_cpu = ck["cpu_s"] / n * 1e6
bb_cpu = bb["watched_cpu_s"]["blackbox"] / n * 1e6
floor_cpu = floor["cpu_s"] / n * 1e6
ck2_busy = (ck2["cpu_s"] + ck2["watched_cpu_s"]["nginx"]) / (ck2["wall_s"] * cores) * 100
ck2_self = ck2["cpu_s"] / ck2["wall_s"]
per_conn = (m1000["maxrss_kib"] - m1["maxrss_kib"]) / 1000
def verdict(ok): return "met" if ok else "MISSED"
def summary(figure, ck_text, peer, ratio, target, ok):
    path = os.environ.get("BENCH_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write("\t".join([os.environ.get("BENCH_NAME", "probe"), figure, ck_text, peer, ratio, target,
                               ok if isinstance(ok, str) else verdict(ok)]) + "\n")
summary(f"probe, {n} handshakes, chain verified, pinned", f"{ck_rate:.0f}/s", f"blackbox_exporter {bb_rate:.0f}/s",
        f"{ck_rate / bb_rate:.2f}x", ">= 2x", ck_rate >= 2 * bb_rate)
summary("probe CPU per handshake, pinned", f"{ck_cpu:.0f} us", f"bare OpenSSL client {floor_cpu:.0f} us",
        f"{ck_cpu / floor_cpu:.2f}x", "<= 1.25x", ck_cpu <= 1.25 * floor_cpu)
summary("probe --threads 2, unpinned", f"{ck2_rate:.0f}/s", f"pinned one loop {ck_rate:.0f}/s",
        f"{ck2_rate / ck_rate:.2f}x", "report", "reported")
summary("probe memory per connection", f"{per_conn:.1f} KiB", "", "", "<= 64 KiB", per_conn <= 64)
print(f"pinned throughput: certkeeper / blackbox_exporter = {ck_rate / bb_rate:.2f}x (target >= 2x: {verdict(ck_rate >= 2 * bb_rate)}); "
      f"certkeeper / openssl s_client = {ck_rate / os_rate:.1f}x")
print(f"pinned CPU per handshake: certkeeper {ck_cpu:.0f} us, bare OpenSSL client {floor_cpu:.0f} us: "
      f"{ck_cpu / floor_cpu:.2f}x (target <= 1.25x: {verdict(ck_cpu <= 1.25 * floor_cpu)}); blackbox_exporter {bb_cpu:.0f} us")
print(f"unpinned --threads 2: {ck2_rate:.0f} handshakes/s ({ck2_rate / ck_rate:.2f}x the pinned single loop); "
      f"certkeeper used {ck2_self:.2f} cores, certkeeper + nginx kept {ck2_busy:.0f} % of {cores} cores busy")
print(f"memory: peak RSS {m1['maxrss_kib'] / 1024:.1f} MiB at --concurrency 1, {m1000['maxrss_kib'] / 1024:.1f} MiB at 1000: "
      f"{per_conn:.1f} KiB per connection in flight (target <= 64: {verdict(per_conn <= 64)})")
PY
