#!/bin/bash
# `certkeeper probe` against a real nginx, an SMTP server with STARTTLS, and
# servers that misbehave on purpose; results checked with openssl.
. "$(dirname "$0")/lib.sh" "$1"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/install-deps.sh)"
E2E="$(dirname "$0")"
jq_py() { /usr/bin/python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
by = {r['target']: r for r in rows}
print(eval(sys.argv[1]))" "$1"; }

# A throwaway CA, a server certificate valid for 2 days (localhost, 127.0.0.1)
# and a second one from another key, valid for 10 days.
N="$WORK/nginx"; mkdir -p "$N/logs" "$N/tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=probe-ca \
  -keyout "$N/ca.key" -out "$N/ca.pem" 2>/dev/null
issue() {  # issue NAME DAYS
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout "$N/$1.key" -out "$N/$1.csr" 2>/dev/null
  openssl x509 -req -in "$N/$1.csr" -CA "$N/ca.pem" -CAkey "$N/ca.key" -CAcreateserial -days "$2" \
    -extfile <(printf "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth") \
    -out "$N/$1.pem" 2>/dev/null
  cat "$N/$1.pem" "$N/ca.pem" > "$N/$1.fullchain.pem"
}
issue one 2
issue two 10

start_nginx() {
  local attempt
  for attempt in 1 2 3 4 5 6 7 8; do
    P1=$(( 20000 + RANDOM % 12000 )); P2=$(( P1 + 1 ))
    { nginx_preamble "$N"; cat <<CONF
events { worker_connections 512; }
http {
  access_log off;
$(nginx_temp_paths "$N")
  ssl_protocols TLSv1.2 TLSv1.3;
  server { listen 127.0.0.1:$P1 ssl; ssl_certificate $N/one.fullchain.pem; ssl_certificate_key $N/one.key; }
  server { listen 127.0.0.1:$P2 ssl; ssl_certificate $N/two.fullchain.pem; ssl_certificate_key $N/two.key; }
}
CONF
    } > "$N/nginx.conf"
    launch_nginx "$N" "$N/ca.pem" "https://127.0.0.1:$P2/" && return 0
  done
  fail "nginx did not start: $(cat "$N/logs/error.log")"
}
on_fail() { echo "--- last output"; cat "$WORK/out" 2>/dev/null; cat "$WORK/err" 2>/dev/null; }
start_nginx
fp() { openssl x509 -in "$1" -noout -fingerprint "-$2" | cut -d= -f2 | tr -d : | tr A-F a-f; }
SHA_ONE=$(fp "$N/one.pem" sha256); MD5_ONE=$(fp "$N/one.pem" md5); SHA_TWO=$(fp "$N/two.pem" sha256)

# 1. What the server serves, checked against openssl.
ck probe --json --ca-file "$N/ca.pem" "127.0.0.1:$P1" "localhost:$P1" > "$WORK/out"
[ "$(wc -l < "$WORK/out")" = 2 ] || fail "one JSON line per target"
r="by['localhost:$P1']"
assert_eq "$(jq_py "$r['ok'], $r['verified'], $r['hostname_match'], $r['phase']" < "$WORK/out")" \
  "(True, True, True, 'done')" "verified handshake"
assert_eq "$(jq_py "$r['sha256']" < "$WORK/out")" "$SHA_ONE" "sha256 as openssl computes it"
assert_eq "$(jq_py "$r['md5']" < "$WORK/out")" "$MD5_ONE" "md5 as openssl computes it"
assert_eq "$(jq_py "$r['serial']" < "$WORK/out")" "$(serial_of "$N/one.pem")" "serial"
assert_eq "$(jq_py "$r['subject'], $r['issuer'], $r['sans'], $r['chain_length']" < "$WORK/out")" \
  "('CN=localhost', 'CN=probe-ca', ['localhost', '127.0.0.1'], 2)" "names and chain"
want_end=$(date -u -d "$(openssl x509 -in "$N/one.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
# Whole days left: 1, or 2 when the probe ran within the second the certificate was made.
assert_eq "$(jq_py "$r['not_after'], $r['days_left'] in (1, 2), $r['sni'], $r['address']" < "$WORK/out")" \
  "('$want_end', True, 'localhost', '127.0.0.1')" "validity, SNI, address"
assert_eq "$(jq_py "by['127.0.0.1:$P1']['sni'], by['127.0.0.1:$P1']['hostname_match']" < "$WORK/out")" \
  "(None, True)" "an IP target sends no SNI and matches the IP SAN"
for field in target host port sni address ok error phase tls_version cipher subject issuer sans serial \
    not_before not_after days_left sha256 md5 chain_length verified verify_error hostname_match \
    ocsp_stapled elapsed_ms; do
  assert_eq "$(jq_py "'$field' in by['127.0.0.1:$P1']" < "$WORK/out")" True "JSON field $field"
done
pass "handshake facts match openssl"

# 2. Without the CA: not verified, with OpenSSL's reason; a wrong name does not match.
ck probe --json "localhost:$P1" "127.0.0.1:$P1@wrong.example" > "$WORK/out" || true
assert_eq "$(jq_py "by['localhost:$P1']['ok'], by['localhost:$P1']['verified'], by['localhost:$P1']['verify_error']" < "$WORK/out")" \
  "(True, False, 'self-signed certificate in certificate chain')" "untrusted chain reported"
assert_eq "$(jq_py "by['127.0.0.1:$P1@wrong.example']['hostname_match']" < "$WORK/out")" False "name mismatch"
# The same chain twice in one scan: the second outcome comes from the scan's
# verification cache and must be the first one's.
assert_eq "$(jq_py "by['127.0.0.1:$P1@wrong.example']['verified'], by['127.0.0.1:$P1@wrong.example']['verify_error']" < "$WORK/out")" \
  "(False, 'self-signed certificate in certificate chain')" "cached verification outcome"
pass "verification and hostname reported"

# 3. Exit codes: --fail-within, --expect-fingerprint.
rc=0; ck probe --ca-file "$N/ca.pem" --fail-within 1d "localhost:$P1" > "$WORK/out" || rc=$?
assert_eq "$rc" 0 "expires in 2 days, window 1 day"
rc=0; ck probe --ca-file "$N/ca.pem" --fail-within 3d "localhost:$P1" > "$WORK/out" || rc=$?
assert_eq "$rc" 3 "expires in 2 days, window 3 days"
grep -q "1 expire within 3d" "$WORK/out" || fail "summary names the expiring count"
rc=0; ck probe --expect-fingerprint "$SHA_ONE" "localhost:$P1" > /dev/null || rc=$?
assert_eq "$rc" 0 "serving the expected certificate"
colon=$(openssl x509 -in "$N/one.pem" -noout -fingerprint -sha256 | cut -d= -f2)
rc=0; ck probe --expect-fingerprint "$colon" --json "localhost:$P1" "localhost:$P2" > "$WORK/out" || rc=$?
assert_eq "$rc" 3 "one endpoint serves another certificate"
assert_eq "$(jq_py "by['localhost:$P1']['fingerprint_match'], by['localhost:$P2']['fingerprint_match'], by['localhost:$P2']['sha256'] == '$SHA_TWO'" < "$WORK/out")" \
  "(True, False, True)" "fingerprint_match per target"
pass "exit codes"

# 4. Table and Prometheus text.
ck probe --ca-file "$N/ca.pem" "localhost:$P1" "127.0.0.1:1" > "$WORK/out" || true
grep -q "^localhost:$P1 .*TLSv1.3 .*CN=localhost" "$WORK/out" || fail "table row"
grep -q "FAILED (connect): connection refused" "$WORK/out" || fail "table error row"
grep -q "2 probed: 1 ok, 1 failed" "$WORK/out" || fail "table summary"
! grep -q $'\033' "$WORK/out" || fail "no colour when not on a terminal"
ck probe --format prometheus --ca-file "$N/ca.pem" "localhost:$P1" "127.0.0.1:1" > "$WORK/out" || true
want_epoch=$(date -d "$(openssl x509 -in "$N/one.pem" -noout -enddate | cut -d= -f2)" +%s)
grep -qx "certkeeper_probe_cert_not_after_seconds{target=\"localhost:$P1\",sni=\"localhost\"} $want_epoch" "$WORK/out" \
  || fail "prometheus not-after"
grep -qx "certkeeper_probe_success{target=\"127.0.0.1:1\",sni=\"\"} 0" "$WORK/out" || fail "prometheus failure"
grep -qx "certkeeper_probe_cert_days_left{target=\"localhost:$P1\",sni=\"localhost\"} [12]" "$WORK/out" || fail "prometheus days"
grep -qx "# TYPE certkeeper_probe_success gauge" "$WORK/out" || fail "prometheus TYPE line"
pass "table and prometheus"

# 5. Misbehaving servers in one scan with a good one: each ends with its own
# error inside the timeout, memory stays small, the good target is unaffected.
BIG="$WORK/bigchain.pem"
cp "$N/one.pem" "$BIG"
/usr/bin/python3 -c 'import sys; open(sys.argv[1], "a").write(open(sys.argv[2]).read() * 9000)' \
  "$BIG" "$N/ca.pem"   # about 5 MB of chain
start_server HOSTILE "$WORK/hostile" -- /usr/bin/python3 "$E2E/hostile_server.py" "$WORK/hostile" \
  "$N/one.pem" "$N/one.key" "$BIG"
port_of() { awk -v m="$1" '$1 == m { print $2 }' "$WORK/hostile/ports"; }
targets=(); for m in silent garbage close reset trickle bigchain; do targets+=("127.0.0.1:$(port_of $m)@$m.test"); done
rc=0
/usr/bin/python3 -c '
import resource, subprocess, sys
with open(sys.argv[1], "w") as out:
    rc = subprocess.run(sys.argv[3:], stdout=out).returncode
open(sys.argv[2], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)' "$WORK/out" "$WORK/rss" "$CK_BIN" --home "$H" probe --json --timeout 3s --ca-file "$N/ca.pem" \
  "${targets[@]}" "localhost:$P1" || rc=$?
assert_eq "$rc" 3 "failed targets make exit 3"
assert_eq "$(wc -l < "$WORK/out")" 7 "every target reported"
err() { jq_py "by['127.0.0.1:$(port_of "$1")@$1.test']['phase'] + ': ' + by['127.0.0.1:$(port_of "$1")@$1.test']['error']" < "$WORK/out"; }
[[ "$(err silent)" == "handshake: timed out after 3s in the TLS handshake (0 bytes received)" ]] || fail "silent: $(err silent)"
[[ "$(err garbage)" == "handshake: the server does not answer with TLS"* ]] || fail "garbage: $(err garbage)"
[[ "$(err close)" == "handshake: the server closed the connection during the handshake" ]] || fail "close: $(err close)"
[[ "$(err reset)" == "handshake: connection reset by the server during the handshake" ]] || fail "reset: $(err reset)"
[[ "$(err trickle)" =~ ^handshake:\ timed\ out\ after\ 3s\ in\ the\ TLS\ handshake\ \([1-9]\ bytes\ received\)$ ]] || fail "trickle: $(err trickle)"
[[ "$(err bigchain)" == "handshake: the server sent a handshake message over 64 KiB"* ]] || fail "bigchain: $(err bigchain)"
assert_eq "$(jq_py "by['localhost:$P1']['ok'], by['localhost:$P1']['verified']" < "$WORK/out")" "(True, True)" \
  "the good target in the same scan"
assert_eq "$(jq_py "max(r['elapsed_ms'] for r in rows) < 4500" < "$WORK/out")" True "all ended within the timeout"
rss_kib=$(cat "$WORK/rss")
rss_below 65536 "$rss_kib" "a scan with a 5 MB chain on offer"
pass "hostile servers: $(tr '\n' ' ' < "$WORK/hostile/ports"); peak RSS ${rss_kib} KiB"

# 5b. Record floods: peers that answer the ClientHello with an endless stream
# of records of one content type (HelloRequest handshake records, which
# OpenSSL skips in a loop, and every other type), and one that drips
# HelloRequests. Each ends with its own error within the timeout + 1 s; a good
# target in the same scan is unaffected.
floods=(flood_hello_request flood_empty flood_alert flood_ccs flood_appdata flood_unknown drip_hello_request)
targets=(); for m in "${floods[@]}"; do targets+=("127.0.0.1:$(port_of $m)@$m.test"); done
rc=0; started_ns=$(date +%s%N)
# `timeout`: a scanner that stalls fails this test instead of hanging it.
timeout 20 "$CK_BIN" --home "$H" probe --json --timeout 2s --ca-file "$N/ca.pem" "${targets[@]}" \
  "localhost:$P1" > "$WORK/out" || rc=$?
took_ms=$(( ($(date +%s%N) - started_ns) / 1000000 ))
[ "$took_ms" -le 3000 ] || fail "a scan with record floods took $took_ms ms with --timeout 2s (exit $rc)"
assert_eq "$rc" 3 "flooded targets make exit 3"
assert_eq "$(wc -l < "$WORK/out")" 8 "every target reported"
for m in "${floods[@]}"; do
  [[ "$(err "$m")" == "handshake: "* ]] || fail "$m: $(err "$m")"
done
[[ "$(err flood_hello_request)" == "handshake: the server sent 256 KiB without completing the handshake"* ]] ||
  fail "flood_hello_request: $(err flood_hello_request)"
[[ "$(err drip_hello_request)" =~ ^handshake:\ timed\ out\ after\ 2s\ in\ the\ TLS\ handshake\ \([0-9]+\ bytes\ received\)$ ]] ||
  fail "drip_hello_request: $(err drip_hello_request)"
assert_eq "$(jq_py "by['localhost:$P1']['ok'], by['localhost:$P1']['verified'], by['localhost:$P1']['elapsed_ms'] < 1000" < "$WORK/out")" \
  "(True, True, True)" "the good target in a flooded scan, quickly"
for m in "${floods[@]}"; do echo "  $m -> $(err "$m")"; done
pass "record floods end within the timeout + 1 s ($took_ms ms); the good target unaffected"

# 6. Name resolution: /etc/hosts first, then the DNS server given; NXDOMAIN
# and an unreachable DNS server are resolve-phase errors.
rc=0; ck probe --json --timeout 3s --dns-server "127.0.0.1:$(port_of dns)" --ca-file "$N/ca.pem" \
  "localhost:$P1" "no-such-host.test:443" > "$WORK/out" || rc=$?
assert_eq "$rc" 3 "an unresolvable name is a failed target"
assert_eq "$(jq_py "by['no-such-host.test:443']['phase'], by['no-such-host.test:443']['error'], by['localhost:$P1']['ok']" < "$WORK/out")" \
  "('resolve', \"cannot resolve 'no-such-host.test': no such host\", True)" "NXDOMAIN"
ck probe --json --timeout 2s --dns-server 127.0.0.1:9 "no-dns.test:443" > "$WORK/out" || true
assert_eq "$(jq_py "rows[0]['phase']" < "$WORK/out")" resolve "dead DNS server"
pass "resolution: $(jq_py "rows[0]['error']" < "$WORK/out")"

# 7. STARTTLS (SMTP) against a real SMTP server; SMTP spoken to a TLS port fails in that phase.
start_server SMTP "$WORK/smtp" -- /usr/bin/python3 "$E2E/smtp_sink.py" "$WORK/smtp" --tls "$N/one.fullchain.pem" "$N/one.key"
ck probe --json --starttls smtp --ca-file "$N/ca.pem" "localhost:$SMTP_PORT" > "$WORK/out"
assert_eq "$(jq_py "rows[0]['ok'], rows[0]['verified'], rows[0]['sha256'] == '$SHA_ONE'" < "$WORK/out")" \
  "(True, True, True)" "STARTTLS smtp"
ck probe --json --starttls smtp --timeout 2s "localhost:$P1" > "$WORK/out" || true
assert_eq "$(jq_py "rows[0]['phase']" < "$WORK/out")" starttls "SMTP to a TLS port"
pass "starttls: $(jq_py "rows[0]['error']" < "$WORK/out")"

# 8. Many targets through few slots; a targets file with comments.
{ echo "# fleet"; for _ in $(seq 1 150); do echo "localhost:$P1   # one"; echo; echo "127.0.0.1:$P2@localhost"; done; } > "$WORK/targets"
ck probe --json --concurrency 16 --ca-file "$N/ca.pem" --targets-file "$WORK/targets" > "$WORK/out"
assert_eq "$(jq_py "len(rows), sum(r['ok'] and r['verified'] for r in rows)" < "$WORK/out")" "(300, 300)" "300 targets, 16 at a time"
pass "targets file"

# 8b. One event loop per thread: four loops report every target once, with the
# same outcome as one loop, and the table (in target order) is the same.
{ for _ in $(seq 1 40); do echo "localhost:$P1"; echo "127.0.0.1:$P2@localhost"; echo "127.0.0.1:1"; done; } > "$WORK/mixed"
rc1=0; ck probe --threads 1 --concurrency 8 --timeout 2s --ca-file "$N/ca.pem" --targets-file "$WORK/mixed" > "$WORK/t1" || rc1=$?
rc4=0; ck probe --threads 4 --concurrency 8 --timeout 2s --ca-file "$N/ca.pem" --targets-file "$WORK/mixed" > "$WORK/t4" || rc4=$?
assert_eq "$rc1 $rc4" "3 3" "refused targets make exit 3 on one loop and on four"
diff "$WORK/t1" "$WORK/t4" || fail "--threads 4 printed another table than --threads 1"
assert_eq "$(tail -1 "$WORK/t4")" "120 probed: 80 ok, 40 failed" "the summary line"
ck probe --json --threads 4 --concurrency 8 --timeout 2s --ca-file "$N/ca.pem" --targets-file "$WORK/mixed" > "$WORK/out" || true
assert_eq "$(jq_py "len(rows), sum(r['ok'] and r['verified'] for r in rows), sorted(set(r['error'] for r in rows if not r['ok']))" < "$WORK/out")" \
  "(120, 80, ['connection refused'])" "--threads 4 --json: every target once"
rc=0; ck probe --threads 0 "localhost:$P1" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 2 "--threads 0 is a usage error"
grep -q "^certkeeper: error: --threads: Value 0 not in range 1 to 256" "$WORK/err" || fail "--threads 0: $(cat "$WORK/err")"
pass "--threads 4: the same table as one loop"

# 9. Bad input: one line naming the input, exit 1, the store untouched; no
# target at all is a usage error.
ck ca init --name "Probe E2E" > /dev/null 2>&1
expect_error "bad port" "localhost:99999" -- ck probe localhost:99999
printf 'localhost:%s\nlocalhost:12x\n' "$P1" > "$WORK/typo"
expect_error "typo in targets file" "$WORK/typo:2" -- ck probe --targets-file "$WORK/typo"
expect_error "missing targets file" "$WORK/none" -- ck probe --targets-file "$WORK/none"
echo "not a certificate" > "$WORK/bad-ca.pem"
expect_error "bad CA file" "$WORK/bad-ca.pem" -- ck probe --ca-file "$WORK/bad-ca.pem" "localhost:$P1"
expect_error "bad timeout" "abc" -- ck probe --timeout abc "localhost:$P1"
expect_error "zero timeout" "0ms" -- ck probe --timeout 0ms "localhost:$P1"
expect_error "bad fingerprint" "xyz" -- ck probe --expect-fingerprint xyz "localhost:$P1"
expect_error "bad DNS server" "nonsense" -- ck probe --dns-server nonsense "no-such-host.test"
rc=0; ck probe 2> "$WORK/err" || rc=$?
assert_eq "$rc" 2 "no target"

# 10. fingerprint reads a file or standard input, PEM or DER.
openssl x509 -in "$N/one.pem" -outform DER -out "$WORK/one.der"
assert_eq "$(ck fingerprint --format hex - < "$N/one.pem")" "$SHA_ONE" "fingerprint of stdin"
assert_eq "$(ck fingerprint --md5 --format hex "$WORK/one.der")" "$MD5_ONE" "md5 of DER"
pass "fingerprint"
