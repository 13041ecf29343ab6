#!/usr/bin/env bash
# `certkeeper serve` at size: a store of CERTS client certificates (over
# USERS users; notAfter spread over two years, so ~4 % are in the 30-day
# alertable set; HELD of them superseded with a held revocation), SERVERS
# server certificates, and ENDPOINTS probed endpoints (one nginx listening on
# ENDPOINTS ports, from a targets file; no plan, so no alignment series).
# Measures, in one run:
#   - one /metrics scrape (curl, sequential): median and max, target <= 50 ms;
#   - scrapes/s under wrk -t2 -c32 against serve and against
#     prometheus-node-exporter's textfile collector serving the very same
#     exposition (what users do today with `probe --format prometheus`),
#     the ratio (target >= 2x);
#   - serve's RSS (VmRSS, VmHWM) at that size.
#   - the inventory page and the full client list (first page, 100 rows;
#     target <= 20 ms) and the API's
#     certificate list of 1,000 rows (target <= 30 ms), sequential, median;
# --soak SECONDS: wrk cycling /metrics, the page and the API for SECONDS beside the probe loop
# (--probe-interval 10s); RSS and open descriptors (from /proc) at start,
# after warm-up (a tenth of the run, at least 30 s) and at the end, and every
# non-2xx response or socket error wrk saw. Never fails on a timing.
#
# usage: bench/serve.sh [--soak SECONDS]
#   env: CERTS=100000 USERS=20000 HELD=500 SERVERS=100 ENDPOINTS=1000 BASE_PORT=21000
#        SCRAPES=50 WRK_SECONDS=20 PORT=19555 NE_PORT=19100
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SOAK=0
if [[ ${1:-} == --soak ]]; then
  SOAK=${2:?--soak needs SECONDS}
  [[ $SOAK =~ ^[1-9][0-9]*$ ]] || die "--soak SECONDS: a positive integer, got '$SOAK'"
fi
CERTS=${CERTS:-100000}
USERS=${USERS:-20000}
HELD=${HELD:-500}
SERVERS=${SERVERS:-100}
ENDPOINTS=${ENDPOINTS:-1000}
BASE_PORT=${BASE_PORT:-21000}
SCRAPES=${SCRAPES:-50}
WRK_SECONDS=${WRK_SECONDS:-20}
PORT=${PORT:-19555}
NE_PORT=${NE_PORT:-19100}
need nginx openssl curl sqlite3 wrk prometheus-node-exporter /usr/bin/python3
need_certkeeper
PROM_TEXT=$BENCH_ROOT/tests/e2e/prom_text.py

work=
scratch work
cd "$work"
h=$work/home
mkdir -p "$h"
now=$(date +%s)
note "store: $CERTS client certificates over $USERS users, $HELD held, $SERVERS server certificates; $ENDPOINTS endpoints ($work)"
certkeeper_home "$h"

# --- the store, filled with SQL (the way expiring.sh and crl_build.sh do) ----
span=$((730 * 86400))
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 -subj /CN=site.bench.test \
  -addext subjectAltName=DNS:site.bench.test -keyout site.key -out site.pem 2>/dev/null
openssl x509 -in site.pem -outform DER -out site.der
sqlite3 "$h/certkeeper.db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $((USERS - 1)))
INSERT INTO users (name, cn, email, created_at)
SELECT 'u' || i, 'User ' || i, 'u' || i || '@example.org', $now FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $CERTS),
  rnd(i, b) AS MATERIALIZED (SELECT i, randomblob(16) FROM seq)
INSERT INTO certificates (serial, user_id, key_type, not_before, not_after, issued_at, der,
                          status, delivery)
SELECT CASE WHEN substr(b, 1, 1) = X'00' THEN CAST(X'01' || substr(b, 2) AS BLOB) ELSE b END,
       1 + i % $USERS, 'ec-p256', $now, $now + 1 + (i - 1) * $span / $CERTS, $now, zeroblob(600),
       CASE WHEN i <= $HELD THEN 'superseded' ELSE 'active' END, 'delivered'
  FROM rnd;
INSERT INTO revocations (cert_id, serial, not_after, user_id, reason, state, requested_at, ticket)
SELECT id, serial, not_after, user_id, 4, 'held', $now - id * 3600, 'T' || id
  FROM certificates WHERE status = 'superseded';
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < $((SERVERS - 1)))
INSERT INTO server_certs (name, version, source, domains, cert_der, key_pem, key_encrypted,
                          not_before, not_after, created_at, sha256)
SELECT 'site' || i, 1, 'import', 'site.bench.test', readfile('site.der'), '', 0, $now, $now + 90 * 86400,
       $now, lower(hex(randomblob(32))) FROM seq;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
got=$(sqlite3 "$h/certkeeper.db" "SELECT count(*) FROM certificates")
[[ $got == $((CERTS + 1)) ]] || die "populated $got certificates instead of $((CERTS + 1))"

# --- the fleet and serve ----------------------------------------------------
start_tls_fleet "$work/fleet" "$ENDPOINTS" "$BASE_PORT"
fleet_pid=$FLEET_PID
trap 'kill ${serve_pid:-} ${ne_pid:-} $fleet_pid 2>/dev/null || true; bench_cleanup' EXIT
for ((p = BASE_PORT; p < BASE_PORT + ENDPOINTS; p++)); do echo "127.0.0.1:$p"; done > targets
probe_interval=$([[ $SOAK -gt 0 ]] && echo 10s || echo 60s)
"$CERTKEEPER" --home "$h" serve --listen "127.0.0.1:$PORT" --probe-interval "$probe_interval" \
  --targets-file targets --ca-file "$work/fleet/ca.pem" > serve.log 2>&1 &
serve_pid=$!
URL=http://127.0.0.1:$PORT
# Ready once the first probe round is in the snapshot.
for _ in $(seq 600); do
  curl -s --noproxy '*' "$URL/metrics" > metrics.txt 2>/dev/null && grep -q '^certkeeper_probe_round_timestamp_seconds ' metrics.txt && break
  kill -0 $serve_pid 2>/dev/null || die "serve stopped: $(cat serve.log)"
  sleep 0.1
done
grep -q '^certkeeper_probe_round_timestamp_seconds ' metrics.txt || die "no probe round within 60 s"
series=$(/usr/bin/python3 "$PROM_TEXT" metrics.txt check) || die "the scrape does not parse: $series"
ok=$(grep -c '^certkeeper_endpoint_probe_success{.*} 1$' metrics.txt || true)
[[ $ok == "$ENDPOINTS" ]] || die "only $ok of $ENDPOINTS endpoints probed successfully"
bytes=$(stat -c %s metrics.txt)

proc_status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }

if [[ $SOAK -eq 0 ]]; then
  # --- one scrape at a time -------------------------------------------------
  : > scrape.ms
  for ((i = 0; i < SCRAPES; i++)); do
    curl -s --noproxy '*' -o /dev/null -w '%{time_total}\n' "$URL/metrics" | awk '{ printf "%.2f\n", $1 * 1000 }' >> scrape.ms
  done
  scrape_med=$(median_ms scrape.ms)
  read -r scrape_min scrape_max < <(minmax_ms scrape.ms; echo)
  # time_get NAME PATH ROWS_CHECK: SCRAPES sequential GETs of PATH (each must
  # be 200); median and min-max into NAME_med, NAME_min, NAME_max.
  time_get() {
    local name=$1 path=$2 i code ms
    : > "$name.ms"
    for ((i = 0; i < SCRAPES; i++)); do
      read -r code ms < <(curl -s --noproxy '*' -o "$name.body" -w '%{http_code} %{time_total}\n' "$URL$path")
      [[ $code == 200 ]] || die "GET $path: HTTP $code: $(head -c 300 "$name.body")"
      awk -v t="$ms" 'BEGIN { printf "%.2f\n", t * 1000 }' >> "$name.ms"
    done
    printf -v "${name}_med" '%s' "$(median_ms "$name.ms")"
    read -r "${name}_min" "${name}_max" < <(minmax_ms "$name.ms"; echo)
  }
  # The inventory page (first page: 100 rows, the soonest to expire) and the
  # API's certificate list with 1,000 rows; each checked for its row count.
  time_get page /
  page_rows=$(grep -c '<tr class=' page.body || true)
  (( page_rows >= 100 )) || die "the inventory page shows $page_rows rows, not 100"
  # The full client list (every state, soonest to expire first, 100 rows).
  time_get list /certificates
  list_rows=$(grep -c '<tr class=' list.body || true)
  (( list_rows >= 100 )) || die "the client list shows $list_rows rows, not 100"
  # The same list from its middle (a cursor half-way through the store): must
  # seek there, not walk the rows before it.
  mid=$(sqlite3 "$h/certkeeper.db" "SELECT not_after || '.' || hex(serial) FROM certificates
    ORDER BY not_after, serial LIMIT 1 OFFSET $((CERTS / 2))")
  time_get deep "/certificates?after=$mid"
  deep_rows=$(grep -c '<tr class=' deep.body || true)
  (( deep_rows >= 100 )) || die "the client list from its middle shows $deep_rows rows, not 100"
  time_get api '/api/v1/certificates?limit=1000'
  api_rows=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' api.body)
  [[ $api_rows == 1000 ]] || die "the API list returned $api_rows rows, not 1000"

  # --- the peer: node_exporter's textfile collector, the same series ---------
  mkdir -p textfile
  cp metrics.txt textfile/certkeeper.prom
  prometheus-node-exporter --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$work/textfile" --web.disable-exporter-metrics \
    --web.listen-address="127.0.0.1:$NE_PORT" > node_exporter.log 2>&1 &
  ne_pid=$!
  for _ in $(seq 100); do curl -sf --noproxy '*' "http://127.0.0.1:$NE_PORT/metrics" > ne.txt 2>/dev/null && break; sleep 0.1; done
  ne_series=$(grep -c '^certkeeper_' ne.txt || true)
  [[ $ne_series == "$series" ]] || die "node_exporter serves $ne_series certkeeper series, serve $series: $(tail -3 node_exporter.log)"

  wrk_errors() { awk '/Non-2xx/ { n += $NF } /Socket errors/ { for (i = 4; i <= NF; i += 2) n += $i } END { print n + 0 }' "$1"; }
  wrk_rate() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
  wrk -t2 -c32 -d"${WRK_SECONDS}s" "$URL/metrics" > wrk.ck 2>&1
  ck_rate=$(wrk_rate wrk.ck); ck_err=$(wrk_errors wrk.ck)
  rss=$(proc_status $serve_pid VmRSS); hwm=$(proc_status $serve_pid VmHWM)
  wrk -t2 -c32 -d"${WRK_SECONDS}s" "http://127.0.0.1:$NE_PORT/metrics" > wrk.ne 2>&1
  ne_rate=$(wrk_rate wrk.ne); ne_err=$(wrk_errors wrk.ne)
  ne_rss=$(proc_status $ne_pid VmHWM)

  echo
  echo "certkeeper serve /metrics: $CERTS client certificates ($USERS users, $HELD held), $SERVERS server certificates, $ENDPOINTS endpoints; $(date -u +%Y-%m-%d)"
  machine_line
  echo "exposition: $series series, $bytes bytes; wrk -t2 -c32 -d${WRK_SECONDS}s on loopback; node_exporter $(prometheus-node-exporter --version 2>&1 | awk 'NR==1{print $3}') textfile collector serving the same text"
  echo
  echo "| figure | certkeeper serve | node_exporter textfile | ratio | target |"
  echo "|---|---:|---:|---:|---|"
  echo "| one scrape, median of $SCRAPES (min-max) | $scrape_med ms ($scrape_min-$scrape_max) | | | <= 50 ms: $(verdict "$scrape_med" 50) |"
  echo "| scrapes/s (errors) | $ck_rate ($ck_err) | $ne_rate ($ne_err) | $(ratio "$ck_rate" "$ne_rate")x | >= 2x: $(le 2 "$(ratio "$ck_rate" "$ne_rate")" && echo met || echo MISSED) |"
  echo "| inventory page \`/\` (first page, 100 rows), median of $SCRAPES (min-max) | $page_med ms ($page_min-$page_max) | | | <= 20 ms: $(verdict "$page_med" 20) |"
  echo "| client list \`/certificates\` (first page, 100 rows), median of $SCRAPES (min-max) | $list_med ms ($list_min-$list_max) | | | <= 20 ms: $(verdict "$list_med" 20) |"
  echo "| client list from its middle (\`?after=\` half-way, 100 rows), median (min-max) | $deep_med ms ($deep_min-$deep_max) | | | <= 20 ms: $(verdict "$deep_med" 20) |"
  echo "| API \`/api/v1/certificates?limit=1000\`, median of $SCRAPES (min-max) | $api_med ms ($api_min-$api_max) | | | <= 30 ms: $(verdict "$api_med" 30) |"
  echo "| RSS after the wrk run, peak | $(kib_to_mib "$rss") MiB, $(kib_to_mib "$hwm") MiB | peak $(kib_to_mib "$ne_rss") MiB | | report |"
  summary "serve /metrics scrape, $CERTS certs, $ENDPOINTS endpoints" "$scrape_med ms" "" "" "<= 50 ms" "$(verdict "$scrape_med" 50)"
  summary "serve /metrics scrapes/s" "$ck_rate/s" "node_exporter textfile $ne_rate/s" "$(ratio "$ck_rate" "$ne_rate")x" ">= 2x" \
    "$(le 2 "$(ratio "$ck_rate" "$ne_rate")" && echo met || echo MISSED)"
  summary "serve inventory page, 100 rows" "$page_med ms" "" "" "<= 20 ms" "$(verdict "$page_med" 20)"
  summary "serve client list page, 100 rows" "$list_med ms" "" "" "<= 20 ms" "$(verdict "$list_med" 20)"
  summary "serve client list page from its middle" "$deep_med ms" "" "" "<= 20 ms" "$(verdict "$deep_med" 20)"
  summary "serve API certificate list, 1000 rows" "$api_med ms" "" "" "<= 30 ms" "$(verdict "$api_med" 30)"
  summary "serve RSS, $CERTS certs" "$(kib_to_mib "$hwm") MiB peak" "" "" "report" "reported"
else
  # --- soak -----------------------------------------------------------------
  warm=$(( SOAK / 10 > 30 ? SOAK / 10 : 30 ))
  (( warm < SOAK )) || die "--soak must be longer than the 30 s warm-up"
  r0=$(proc_status $serve_pid VmRSS); f0=$(fds $serve_pid)
  # Each connection cycles through /metrics, the inventory page and an API
  # list (100 rows), so all three renderers run all along.
  cat > rotate.lua <<'LUA'
local paths = {"/metrics", "/", "/api/v1/certificates?limit=100", "/certificates"}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
LUA
  wrk -t2 -c32 -d"${SOAK}s" --timeout 10s -s rotate.lua "$URL" > wrk.out 2>&1 &
  wrk_pid=$!
  sleep "$warm"
  r1=$(proc_status $serve_pid VmRSS); f1=$(fds $serve_pid)
  : > rss.samples
  while kill -0 $wrk_pid 2>/dev/null; do
    echo "$(proc_status $serve_pid VmRSS) $(fds $serve_pid)" >> rss.samples
    sleep 5
  done
  wait $wrk_pid || true
  r2=$(proc_status $serve_pid VmRSS); f2=$(fds $serve_pid)
  errors=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { for (i = 4; i <= NF; i += 2) n += $i } END { print n + 0 }' wrk.out)
  requests=$(awk '/requests in/ { print $1 }' wrk.out)
  read -r rmin rmax fmin fmax < <(awk 'NR == 1 { a = b = $1; c = d = $2 } { if ($1 < a) a = $1; if ($1 > b) b = $1; if ($2 < c) c = $2; if ($2 > d) d = $2 }
    END { print a, b, c, d }' rss.samples)
  rounds=$(( SOAK / 10 ))
  t0=$(now_ns); kill -TERM $serve_pid; rc=0; wait $serve_pid || rc=$?; stop_ms=$(( ($(now_ns) - t0) / 1000000 ))
  serve_pid=
  echo
  echo "certkeeper serve soak: ${SOAK}s of wrk -t2 -c32 cycling /metrics, /, /api/v1/certificates?limit=100 and /certificates beside a probe round of $ENDPOINTS endpoints every 10 s (~$rounds rounds); $CERTS client certificates; $(date -u +%Y-%m-%d)"
  machine_line
  echo
  echo "| | start | after ${warm}s warm-up | end | min-max after warm-up (every 5 s) |"
  echo "|---|---:|---:|---:|---:|"
  echo "| RSS MiB | $(kib_to_mib "$r0") | $(kib_to_mib "$r1") | $(kib_to_mib "$r2") | $(kib_to_mib "$rmin")-$(kib_to_mib "$rmax") |"
  echo "| open descriptors | $f0 | $f1 | $f2 | $fmin-$fmax |"
  echo
  echo "requests: $requests; non-2xx responses and socket errors: $errors; SIGTERM at the end: exit $rc after $stop_ms ms"
  summary "serve soak ${SOAK}s: RSS growth after warm-up" "$(kib_to_mib $(( r2 - r1 ))) MiB" "" "" "flat" "reported"
  summary "serve soak ${SOAK}s: errors" "$errors of $requests" "" "" "0" "$([[ $errors == 0 ]] && echo met || echo MISSED)"
fi
