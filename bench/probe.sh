#!/usr/bin/env bash
# TLS probing speed over a fleet of N endpoints on loopback: one nginx
# listening on N ports (ECDSA P-256, TLSv1.2+1.3), probed in the same run by
#   certkeeper probe (chain verification on, --ca-file),
#   Prometheus blackbox_exporter (tcp module, tls: true) driven by one
#     curl -Z --parallel-max 64,
#   xargs -P 64 openssl s_client (on a subset: it is slow).
# Prints handshakes/s, CPU µs per handshake of the prober and of nginx, how busy
# both cores were, and peak RSS; then certkeeper's memory per connection at
# --concurrency 1000. Never fails on timings.
#
# usage: bench/probe.sh   (env: ENDPOINTS=1000 ROUNDS=5 BASE_PORT=20000
#                          CONCURRENCY=256 OPENSSL_N=300 BB_PORT=19115)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need nginx openssl curl xargs prometheus-blackbox-exporter /usr/bin/python3
need_certkeeper
ENDPOINTS=${ENDPOINTS:-1000}
ROUNDS=${ROUNDS:-5}
BASE_PORT=${BASE_PORT:-20000}
CONCURRENCY=${CONCURRENCY:-256}
OPENSSL_N=${OPENSSL_N:-300}
BB_PORT=${BB_PORT:-19115}
MEASURE=$BENCH_ROOT/bench/measure.py
(( BASE_PORT + ENDPOINTS <= 32768 )) || die "ports must stay below 32768 (the ephemeral range)"

work=
scratch work
cd "$work"
start_tls_fleet "$work" "$ENDPOINTS" "$BASE_PORT"
nginx_master=$FLEET_PID
trap 'kill $nginx_master ${bb_pid:-} 2>/dev/null || true; bench_cleanup' EXIT
nginx_pids=$FLEET_PIDS

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
prometheus-blackbox-exporter --config.file=blackbox.yml --web.listen-address="127.0.0.1:$BB_PORT" \
  > logs/blackbox.log 2>&1 &
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
field() { /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

ck=$(measure --stdout ck.out -- "$CERTKEEPER" probe --json --concurrency "$CONCURRENCY" --ca-file ca.pem --targets-file targets)
ok=$(grep -c '"ok":true,.*"verified":true' ck.out || true)
[[ $ok == "$total" ]] || die "certkeeper: only $ok of $total probes verified: $(grep -m1 '"ok":false' ck.out)"
bb=$(measure -- curl -s -Z --parallel-max 64 -K bb.curl)
# (no -quiet: it implies -ign_eof, and each s_client would wait for nginx's keepalive timeout)
os=$(measure -- sh -c 'xargs -P 64 -n 1 openssl s_client -brief -verify_return_error -CAfile ca.pem -connect \
  < targets.openssl > /dev/null 2>&1')
head -n 200 targets > targets.200
mem1=$(measure -- "$CERTKEEPER" probe --json --concurrency 1 --ca-file ca.pem --targets-file targets.200)
mem1000=$(measure -- "$CERTKEEPER" probe --json --concurrency 1000 --ca-file ca.pem --targets-file targets)

cores=$(nproc)
row() {  # row NAME JSON HANDSHAKES PROBER_CPU_EXPR RSS_EXPR
  /usr/bin/python3 - "$@" "$cores" <<'PY'
import json, sys
name, raw, n, cpu_expr, rss_expr, cores = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
d = raw
prober = eval(cpu_expr)
nginx = d["watched_cpu_s"]["nginx"]
other = d["cpu_s"] - (prober if cpu_expr == 'd["cpu_s"]' else 0)
busy = (prober + nginx + (d["cpu_s"] if cpu_expr != 'd["cpu_s"]' else 0)) / (d["wall_s"] * cores) * 100
print(f"| {name} | {n} | {d['wall_s']:.2f} | {n / d['wall_s']:.0f} | {prober / n * 1e6:.0f} | "
      f"{nginx / n * 1e6:.0f} | {busy:.0f} % | {eval(rss_expr) / 1024:.1f} |")
PY
}
echo
echo "TLS probing, $ENDPOINTS endpoints on one nginx (ECDSA P-256, TLSv1.2+1.3), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "certkeeper $("$CERTKEEPER" --version | awk '{print $NF}'), --concurrency $CONCURRENCY, chain verified; blackbox_exporter $(prometheus-blackbox-exporter --version 2>&1 | awk 'NR==1{print $3}') via curl -Z --parallel-max 64; openssl s_client via xargs -P 64"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| prober | handshakes | wall s | handshakes/s | prober CPU µs/handshake | nginx CPU µs/handshake | cores busy | prober peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
row "certkeeper probe" "$ck" "$total" 'd["cpu_s"]' 'd["maxrss_kib"]'
row "blackbox_exporter (+curl driver)" "$bb" "$total" 'd["watched_cpu_s"]["blackbox"]' 'd["watched_hwm_kib"]["blackbox"]'
row "xargs -P 64 openssl s_client" "$os" "$OPENSSL_N" 'd["cpu_s"]' 'd["maxrss_kib"]'
echo
/usr/bin/python3 - "$ck" "$bb" "$os" "$total" "$OPENSSL_N" "$mem1" "$mem1000" <<'PY'
import json, sys
ck, bb, os_, n, n_os = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
m1, m1000 = json.loads(sys.argv[6]), json.loads(sys.argv[7])
ck_rate, bb_rate, os_rate = n / ck["wall_s"], n / bb["wall_s"], n_os / os_["wall_s"]
ck_cpu = ck["cpu_s"] / n * 1e6
bb_cpu = bb["watched_cpu_s"]["blackbox"] / n * 1e6
busy = (ck["cpu_s"] + ck["watched_cpu_s"]["nginx"]) / (ck["wall_s"] * 2) * 100
per_conn = (m1000["maxrss_kib"] - m1["maxrss_kib"]) / 1000
def verdict(ok): return "met" if ok else "MISSED"
import os
def summary(figure, ck_text, peer, ratio, target, ok):
    path = os.environ.get("BENCH_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write("\t".join([os.environ.get("BENCH_NAME", "probe"), figure, ck_text, peer, ratio, target,
                               ok if isinstance(ok, str) else verdict(ok)]) + "\n")
summary(f"probe, {n} handshakes, chain verified", f"{ck_rate:.0f}/s", f"blackbox_exporter {bb_rate:.0f}/s",
        f"{ck_rate / bb_rate:.2f}x", ">= 2x", ck_rate >= 2 * bb_rate)
# The "<= 200 us on one thread" target was withdrawn (issue 19: OpenSSL 3.0
# stays; its floor here is ~700 us). Its replacement -- within 1.25x of a bare
# OpenSSL client, prober pinned to its own core -- needs that client in
# bench/ first, so the figure is reported without a verdict until then.
summary("probe CPU per handshake", f"{ck_cpu:.0f} us", f"blackbox_exporter {bb_cpu:.0f} us",
        f"{bb_cpu / ck_cpu:.1f}x less", "report (<= 200 us withdrawn)", "reported")
summary("probe memory per connection", f"{per_conn:.1f} KiB", "", "", "<= 64 KiB", per_conn <= 64)
print(f"throughput: certkeeper / blackbox_exporter = {ck_rate / bb_rate:.2f}x (target >= 2x: {verdict(ck_rate >= 2 * bb_rate)}); "
      f"certkeeper / openssl s_client = {ck_rate / os_rate:.1f}x (target >= 40x: {verdict(ck_rate >= 40 * os_rate)})")
print(f"CPU per handshake: certkeeper {ck_cpu:.0f} us, blackbox_exporter {bb_cpu:.0f} us, "
      f"ratio {bb_cpu / ck_cpu:.1f}x (the old <= 200 us and >= 4x targets are withdrawn, issue 19)")
print(f"both cores busy during the certkeeper scan: {busy:.0f} % (reported; one loop per core is issue 19)")
print(f"memory: peak RSS {m1['maxrss_kib'] / 1024:.1f} MiB at --concurrency 1, {m1000['maxrss_kib'] / 1024:.1f} MiB at 1000: "
      f"{per_conn:.1f} KiB per connection in flight (target <= 64: {verdict(per_conn <= 64)})")
PY
