#!/usr/bin/env bash
# `certkeeper verify PLAN` against `certkeeper probe` over the same endpoints:
# one nginx listening on N ports (bench/lib.sh start_tls_fleet), a plan with
# those N endpoints (10 stages of N/10 targets), its certificate imported as a
# stored server certificate. Both run ROUNDS times, alternately; prints the
# median wall times and the ratio. Target: verify <= 2x probe. Never fails on
# timings.
#
# usage: bench/verify.sh   (env: ENDPOINTS=1000 ROUNDS=5 BASE_PORT=21000 CONCURRENCY=256)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need nginx openssl curl /usr/bin/time
need_certkeeper
ENDPOINTS=${ENDPOINTS:-1000}
ROUNDS=${ROUNDS:-5}
BASE_PORT=${BASE_PORT:-21000}
CONCURRENCY=${CONCURRENCY:-256}

work=
scratch work
cd "$work"
start_tls_fleet "$work" "$ENDPOINTS" "$BASE_PORT"
trap 'kill $FLEET_PID 2>/dev/null || true; bench_cleanup' EXIT

"$CERTKEEPER" --home "$work/home" cert import --cert server.pem --chain ca.pem --key server.key \
  --name fleet >/dev/null 2>&1 || die "cannot import the fleet certificate"
{
  printf '[certificate]\nname = "fleet"\nca_file = "ca.pem"\n'
  per_stage=$(( (ENDPOINTS + 9) / 10 ))
  for ((p = BASE_PORT; p < BASE_PORT + ENDPOINTS; p++)); do
    i=$((p - BASE_PORT))
    if (( i % per_stage == 0 )); then printf '[[stage]]\nname = "s%d"\nparallel = 8\n' "$i"; fi
    printf '[[stage.target]]\nname = "t%d"\nendpoints = ["127.0.0.1:%d"]\n' "$i" "$p"
    printf '[stage.target.deploy]\nkind = "command"\ncommand = ["true"]\n'
  done
} > plan.toml
for ((p = BASE_PORT; p < BASE_PORT + ENDPOINTS; p++)); do echo "127.0.0.1:$p"; done > targets

machine_line
note "fleet: nginx on $ENDPOINTS ports from $BASE_PORT; $ROUNDS rounds each, alternately"
: > probe.ms; : > verify.ms
for ((r = 0; r < ROUNDS; r++)); do
  measure "$CERTKEEPER" --home "$work/home" probe --json --concurrency "$CONCURRENCY" --targets-file targets
  [[ $M_RC == 0 ]] || die "probe exited $M_RC"
  awk -v s="$M_SEC" 'BEGIN { printf "%.1f\n", s * 1000 }' >> probe.ms
  M_LOG=$work/verify.json measure "$CERTKEEPER" --home "$work/home" verify --json \
    --concurrency "$CONCURRENCY" plan.toml
  [[ $M_RC == 0 ]] || die "verify exited $M_RC: $(tail -c 300 "$work/verify.json")"
  a=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["aligned"])' verify.json)
  [[ $a == "$ENDPOINTS" ]] || die "verify: $a of $ENDPOINTS aligned"
  awk -v s="$M_SEC" 'BEGIN { printf "%.1f\n", s * 1000 }' >> verify.ms
done
p=$(median_ms probe.ms); v=$(median_ms verify.ms)
printf '%-40s %12s %16s\n' command "median ms" "min..max ms"
printf '%-40s %12s %16s\n' "certkeeper probe ($ENDPOINTS targets)" "$p" "$(minmax_ms probe.ms | awk '{ print $1 ".." $2 }')"
printf '%-40s %12s %16s\n' "certkeeper verify ($ENDPOINTS endpoints)" "$v" "$(minmax_ms verify.ms | awk '{ print $1 ".." $2 }')"
r=$(ratio "$v" "$p")
echo "verify / probe: ${r}x"
echo "Target: verify <= 2x probe: ${r}x ($(le "$r" 2 && echo met || echo MISSED))"
summary "verify PLAN, $ENDPOINTS endpoints" "$v ms" "probe $p ms" "${r}x (lower is better)" "<= 2x probe" \
  "$(le "$r" 2 && echo met || echo MISSED)"
