#!/usr/bin/env bash
# `certkeeper crl check` against `certkeeper probe` over the same mTLS
# endpoints: one nginx listening on N ports (bench/lib.sh start_tls_fleet)
# that requires a client certificate from a certkeeper CA and checks its CRL
# (ssl_verify_client on, ssl_crl). `crl check` issues the run's valid canary,
# presents it to every endpoint (handshake and one GET), then the newest CRL's
# revoked canary; `probe` does one handshake per endpoint. Both run ROUNDS
# times, alternately; prints the median wall times and the ratio, and the
# time of `crl check` on one endpoint (its fixed part: the CA key, the canary,
# the store). Target: crl check <= 2x probe. Never fails on timings.
#
# usage: bench/crl_check.sh   (env: ENDPOINTS=100 ROUNDS=7 BASE_PORT=22000)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need nginx openssl curl /usr/bin/python3
need_certkeeper
ENDPOINTS=${ENDPOINTS:-100}
ROUNDS=${ROUNDS:-7}
BASE_PORT=${BASE_PORT:-22000}

work=
scratch work
cd "$work"
ck() { "$CERTKEEPER" --home "$work/home" "$@"; }
ck ca init --name "Bench client CA" --no-passphrase >/dev/null 2>&1 || die "ca init failed"
ck ca show --pem > client-ca.pem
ck crl build --out "$work/ca.crl" >/dev/null
FLEET_SERVER_EXTRA="
    ssl_client_certificate $work/client-ca.pem;
    ssl_crl $work/ca.crl;
    ssl_verify_client on;
    location / { return 200 \"ok\\n\"; }"
start_tls_fleet "$work" "$ENDPOINTS" "$BASE_PORT"
trap 'kill $FLEET_PID 2>/dev/null || true; bench_cleanup' EXIT
for ((p = BASE_PORT; p < BASE_PORT + ENDPOINTS; p++)); do echo "https://127.0.0.1:$p/"; done > targets

# Every endpoint enforces the newest CRL, or the figures mean nothing.
rc=0; ck --json crl check --ca-file ca.pem --targets-file targets > check.json || rc=$?
[[ $rc == 0 ]] || die "crl check exited $rc: $(head -c 400 check.json)"

machine_line
note "fleet: nginx on $ENDPOINTS mTLS ports from $BASE_PORT; $ROUNDS rounds each, alternately"
: > probe.ms; : > check.ms; : > one.ms; : > cpu.tsv
head -n 1 targets > one
nginx_pids=$FLEET_PIDS
timed() {  # timed FILE LABEL ARGS... : one run; wall ms to FILE, "LABEL cpu nginx_cpu" to cpu.tsv
  local file=$1 label=$2 out
  shift 2
  out=$(/usr/bin/python3 "$BENCH_ROOT/bench/measure.py" --watch "nginx=$nginx_pids" -- \
    "$CERTKEEPER" --home "$work/home" "$@")
  /usr/bin/python3 - "$out" "$file" "$label" <<'PY' >> cpu.tsv
import json, sys
d = json.loads(sys.argv[1])
if d["rc"] != 0:
    sys.exit(f"bench: error: {sys.argv[3]} exited {d['rc']}")
open(sys.argv[2], "a").write(f"{d['wall_s'] * 1000:.1f}\n")
print(f"{sys.argv[3]}\t{d['cpu_s']}\t{d['watched_cpu_s']['nginx']}")
PY
}
for ((r = 0; r < ROUNDS; r++)); do
  timed probe.ms probe probe --json --ca-file ca.pem --targets-file targets
  timed check.ms check crl check --json --ca-file ca.pem --targets-file targets
  timed one.ms one crl check --json --ca-file ca.pem --targets-file one
done
p=$(median_ms probe.ms); c=$(median_ms check.ms); o=$(median_ms one.ms)
r=$(ratio "$c" "$p")
cpu() {  # cpu LABEL COLUMN : mean CPU ms per run
  awk -F'\t' -v l="$1" -v c="$2" '$1 == l { s += $c; n++ } END { printf "%.0f", s / n * 1000 }' cpu.tsv
}
echo
printf '%-44s %10s %16s %18s %16s\n' "command ($ENDPOINTS endpoints)" "median ms" "min..max" "certkeeper CPU ms" "nginx CPU ms"
printf '%-44s %10s %16s %18s %16s\n' "certkeeper probe" "$p" "$(minmax_ms probe.ms | awk '{ print $1 ".." $2 }')" "$(cpu probe 2)" "$(cpu probe 3)"
printf '%-44s %10s %16s %18s %16s\n' "certkeeper crl check" "$c" "$(minmax_ms check.ms | awk '{ print $1 ".." $2 }')" "$(cpu check 2)" "$(cpu check 3)"
printf '%-44s %10s %16s %18s %16s\n' "certkeeper crl check, 1 endpoint (fixed part)" "$o" "$(minmax_ms one.ms | awk '{ print $1 ".." $2 }')" "$(cpu one 2)" "$(cpu one 3)"
echo "crl check / probe: ${r}x wall; certkeeper CPU $(ratio "$(cpu check 2)" "$(cpu probe 2)")x; nginx CPU $(ratio "$(cpu check 3)" "$(cpu probe 3)")x"
echo "Target: crl check <= 2x probe: ${r}x ($(verdict "$r" 2))"
summary "crl check, $ENDPOINTS mTLS endpoints" "$c ms" "probe $p ms" "${r}x (lower is better)" "<= 2x probe" "$(verdict "$r" 2)"
