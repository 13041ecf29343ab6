#!/usr/bin/env bash
# ACME issuance speed against one pebble (PEBBLE_VA_NOSLEEP=1) in the same run:
#   certkeeper acme issue, lego (Debian's, the fastest widely used client) and
#   certbot (Debian's) — N certificates each, one process per certificate
#   (as cron runs them), http-01 through a webroot that one web server on
#   pebble's httpPort serves for all three, every name new
#   (PEBBLE_AUTHZREUSE=0, so no client profits from a reused authorization);
#   plus certkeeper with its built-in responder (its usual mode);
# then `acme renew --all --parallel P` over certkeeper's N certificates for
# P = 1, 2, 4, 8 (a fleet renewing many names in one run), with pebble's CPU.
# Prints seconds per certificate, peak RSS and the ratios. Never fails on timings.
#
# usage: bench/acme.sh   (env: N=20 ACME_PORT=14200 MGMT_PORT=15200 HTTP01=5202
#                         DNS_PORT=8253 CTS_PORT=8255)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need pebble pebble-challtestsrv lego certbot openssl curl /usr/bin/time /usr/bin/python3
need_certkeeper
N=${N:-20}
ACME_PORT=${ACME_PORT:-14200}
MGMT_PORT=${MGMT_PORT:-15200}
HTTP01=${HTTP01:-5202}
DNS_PORT=${DNS_PORT:-8253}
CTS_PORT=${CTS_PORT:-8255}
MEASURE=$BENCH_ROOT/bench/measure.py
DIR_URL="https://127.0.0.1:$ACME_PORT/dir"

work=
scratch work
cd "$work"
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; bench_cleanup; }
trap stop_all EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=pebble-bench \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout tls.key -out tls.pem 2>/dev/null
cat >pebble.json <<JSON
{ "pebble": { "listenAddress": "127.0.0.1:$ACME_PORT", "managementListenAddress": "127.0.0.1:$MGMT_PORT",
  "certificate": "$work/tls.pem", "privateKey": "$work/tls.key", "httpPort": $HTTP01, "tlsPort": 5201,
  "ocspResponderURL": "", "externalAccountBindingRequired": false } }
JSON
pebble-challtestsrv -management 127.0.0.1:$CTS_PORT -dns01 127.0.0.1:$DNS_PORT -http01 "" -https01 "" \
  -tlsalpn01 "" -defaultIPv6 "" >cts.log 2>&1 &
PIDS+=($!)
PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 pebble -config pebble.json -dnsserver 127.0.0.1:$DNS_PORT >pebble.log 2>&1 &
PEBBLE_PID=$!
PIDS+=($PEBBLE_PID)
# Why a webroot: a standalone responder binds pebble's httpPort in every run,
# and here a port with connections in TIME_WAIT (the responder closed them) cannot
# be bound again for 60 s by lego (Go) or certbot (Python) — they set
# SO_REUSEADDR only, which this machine does not honour for TIME_WAIT
# (SO_REUSEPORT works: cpp-httplib, which certkeeper's responder uses, sets it).
mkdir -p webroot
/usr/bin/python3 - "$work/webroot" "$HTTP01" >web.log 2>&1 <<'PY' &
import functools, http.server, sys
class Server(http.server.ThreadingHTTPServer):
    allow_reuse_port = True  # SO_REUSEPORT: binds despite an earlier run's TIME_WAIT
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
Server(("127.0.0.1", int(sys.argv[2])), handler).serve_forever()
PY
PIDS+=($!)
for _ in $(seq 100); do curl -sf --cacert tls.pem "$DIR_URL" >/dev/null && break; sleep 0.1; done
curl -sf --cacert tls.pem "$DIR_URL" >/dev/null || die "pebble did not start (see $work/pebble.log)"

machine_line
echo "pebble $(dpkg-query -W -f='${Version}' pebble), lego $(dpkg-query -W -f='${Version}' lego), certbot $(dpkg-query -W -f='${Version}' certbot); $N certificates per client, http-01, PEBBLE_VA_NOSLEEP=1, default nonce rejection (5 %)"
echo

PROBLEMS=()
# run_series CLIENT FN : N certificates, one process each; FN I sets CMD to the
# command for certificate I. Sets SEC[CLIENT] (mean wall s) and RSS[CLIENT] (peak KiB).
declare -A SEC RSS
run_series() {
  local client=$1 fn=$2 i total=0 peak=0
  for i in $(seq "$N"); do
    M_LOG=$work/$client.$i.log
    "$fn" "$i"  # sets CMD
    measure "${CMD[@]}"
    if [[ $M_RC != 0 ]]; then
      PROBLEMS+=("$client certificate $i failed (exit $M_RC): $(tail -1 "$M_LOG")")
      continue
    fi
    total=$(awk -v a="$total" -v b="$M_SEC" 'BEGIN { printf "%.3f", a + b }')
    ((M_KIB > peak)) && peak=$M_KIB
  done
  SEC[$client]=$(awk -v t="$total" -v n="$N" 'BEGIN { printf "%.3f", t / n }')
  RSS[$client]=$peak
}

ck_issue() {
  CMD=("$CERTKEEPER" --home "$work/ck" acme issue --domain "c$1-ck.example.test" --directory "$DIR_URL" \
    --ca-bundle "$work/tls.pem" --agree-tos --email bench@example.test \
    --webroot "$work/webroot" --out "$work/ck-out/$1")
}
ck_responder_issue() {
  CMD=("$CERTKEEPER" --home "$work/ck2" acme issue --domain "c$1-ckr.example.test" --directory "$DIR_URL" \
    --ca-bundle "$work/tls.pem" --agree-tos --email bench@example.test \
    --http-port "$HTTP01" --http-address 127.0.0.1)
}
lego_issue() {
  CMD=(env "LEGO_CA_CERTIFICATES=$work/tls.pem" lego --server "$DIR_URL" --accept-tos --email bench@example.test \
    --path "$work/lego" --key-type ec256 --domains "c$1-lego.example.test" \
    --http --http.webroot "$work/webroot" run)
}
certbot_issue() {
  CMD=(env "REQUESTS_CA_BUNDLE=$work/tls.pem" certbot certonly --non-interactive --agree-tos -m bench@example.test \
    --server "$DIR_URL" --webroot -w "$work/webroot" \
    --config-dir "$work/cb/config" --work-dir "$work/cb/work" --logs-dir "$work/cb/logs" \
    --key-type ecdsa -d "c$1-certbot.example.test")
}

run_series certkeeper ck_issue
run_series lego lego_issue
run_series certbot certbot_issue
# The built-in responder needs the port: the web server steps aside.
kill "${PIDS[-1]}" 2>/dev/null || true
wait "${PIDS[-1]}" 2>/dev/null || true
run_series "certkeeper (own responder)" ck_responder_issue

# A certificate is verified against pebble's root, for each client, so a
# fast client is not a broken one.
curl -sf --cacert tls.pem "https://127.0.0.1:$MGMT_PORT/roots/0" -o root.pem
openssl verify -CAfile root.pem -untrusted "ck-out/1/chain.pem" "ck-out/1/cert.pem" >/dev/null ||
  PROBLEMS+=("certkeeper's certificate does not verify against pebble's root")
openssl verify -CAfile root.pem -untrusted lego/certificates/c1-lego.example.test.issuer.crt \
  lego/certificates/c1-lego.example.test.crt >/dev/null || PROBLEMS+=("lego's certificate does not verify")

printf '%-28s %14s %12s %18s\n' client "s/certificate" "peak RSS" "certkeeper faster"
for c in certkeeper lego certbot "certkeeper (own responder)"; do
  printf '%-28s %14s %9s MiB %18s\n' "$c" "${SEC[$c]}" "$(kib_to_mib "${RSS[$c]}")" \
    "$([[ $c == certkeeper* ]] && echo - || echo "$(ratio "${SEC[$c]}" "${SEC[certkeeper]}")x")"
done
echo
echo "Target: >= 5x faster than certbot: $(ratio "${SEC[certbot]}" "${SEC[certkeeper]}")x ($(le 5 "$(ratio "${SEC[certbot]}" "${SEC[certkeeper]}")" && echo met || echo MISSED))"
echo "Target: faster than lego:          $(ratio "${SEC[lego]}" "${SEC[certkeeper]}")x ($(le 1.0001 "$(ratio "${SEC[lego]}" "${SEC[certkeeper]}")" && echo met || echo MISSED))"
summary "acme issue, $N certificates, s each" "${SEC[certkeeper]} s" "certbot ${SEC[certbot]} s" \
  "$(ratio "${SEC[certbot]}" "${SEC[certkeeper]}")x" ">= 5x certbot" \
  "$(le 5 "$(ratio "${SEC[certbot]}" "${SEC[certkeeper]}")" && echo met || echo MISSED)"
summary "acme issue, $N certificates, s each" "${SEC[certkeeper]} s" "lego ${SEC[lego]} s" \
  "$(ratio "${SEC[lego]}" "${SEC[certkeeper]}")x" "faster than lego" \
  "$(le 1.0001 "$(ratio "${SEC[lego]}" "${SEC[certkeeper]}")" && echo met || echo MISSED)"
echo

# Parallel renewal: the built-in-responder certificates again, P orders at once
# (one responder on the port, shared by the orders).
printf '%-28s %10s %14s %10s %16s\n' "acme renew --all" "wall s" "s/certificate" speedup "pebble CPU s"
base=
for p in 1 2 4 8; do
  json=$(/usr/bin/python3 "$MEASURE" --watch pebble=$PEBBLE_PID -- "$CERTKEEPER" --home "$work/ck2" \
    acme renew --all --before 100000d --parallel "$p" --json)
  rc=$(echo "$json" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rc"])')
  wall=$(echo "$json" | /usr/bin/python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["wall_s"])')
  pcpu=$(echo "$json" | /usr/bin/python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["watched_cpu_s"]["pebble"])')
  [[ $rc == 0 ]] || PROBLEMS+=("renew --all --parallel $p exited $rc")
  [[ -n $base ]] || base=$wall
  printf '%-28s %10s %14s %9sx %16s\n' "--parallel $p" "$wall" "$(awk -v w="$wall" -v n="$N" 'BEGIN { printf "%.3f", w / n }')" \
    "$(ratio "$base" "$wall")" "$pcpu"
done
echo "(an order mostly waits — validation, polling — so orders overlap beyond the 2 cores; pebble's"
echo " CPU per run shows when the server becomes the limit)"
print_problems
