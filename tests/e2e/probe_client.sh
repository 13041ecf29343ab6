#!/bin/bash
# `probe --client-cert` against servers that ask for a client certificate:
# openssl s_server refusing by a TLS alert (TLS 1.3: after our handshake is
# done; TLS 1.2: in it) and nginx, which completes the handshake and answers
# HTTP 400. What each server did is cross-checked with curl / s_client.
. "$(dirname "$0")/lib.sh" "$1"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/install-deps.sh)"
probe_json() { ck --json probe --ca-file "$N/sca.pem" --timeout 5s "$@"; }
field() { /usr/bin/python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert len(rows) == 1, rows
r = rows[0]; c = r['client_certificate']
print(eval(sys.argv[1]))" "$1"; }

ck ca init --name "Probe Client CA" > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
for u in alice bob; do
  ck user create $u --cn $u --email $u@example.org --out "$WORK/p12" --password-file "$WORK/$u.pw" > /dev/null
  openssl pkcs12 -in "$WORK/p12/$u.p12" -passin "file:$WORK/$u.pw" -nodes -nocerts -out "$WORK/$u.key" 2>/dev/null
  openssl pkcs12 -in "$WORK/p12/$u.p12" -passin "file:$WORK/$u.pw" -nokeys -clcerts -out "$WORK/$u.crt" 2>/dev/null
done
ck user revoke bob --reason keyCompromise > /dev/null
ck crl build --out "$WORK/ca.crl" > /dev/null

# The servers' own certificate, from a separate throwaway CA.
N="$WORK/srv"; mkdir -p "$N/logs" "$N/tmp"
server_pki "$N"

# --- openssl s_server: -Verify (a client certificate is required), CRL checked.
s_server() {  # s_server PORT PROTOCOL-FLAG
  openssl s_server -accept "127.0.0.1:$1" "$2" -cert "$N/server.pem" -key "$N/server.key" \
    -Verify 1 -verify_return_error -CAfile "$WORK/ca.pem" -crl_check -CRL "$WORK/ca.crl" -www > "$WORK/s_server.$1.log" 2>&1 &
  CLEANUP_CMDS+=("stop_server $!")
}
P=17611
s_server $P -tls1_3; s_server $((P + 1)) -tls1_2
for port in $P $((P + 1)); do
  for _ in $(seq 50); do
    openssl s_client -connect "127.0.0.1:$port" < /dev/null > /dev/null 2>&1 && break; sleep 0.1
  done
done

for port in $P $((P + 1)); do
  # A valid certificate: the server asked (naming our CA), took it.
  rc=0; probe_json "127.0.0.1:$port" --client-cert "$WORK/alice.crt" --client-key "$WORK/alice.key" > "$WORK/a.json" || rc=$?
  assert_eq "$rc" 0 "port $port: alice's certificate accepted, exit 0"
  assert_eq "$(field '(r["ok"], c["requested"], c["sent"], c["verdict"])' < "$WORK/a.json")" \
    "(True, True, True, 'accepted')" "port $port: alice"
  assert_eq "$(field 'c["acceptable_cas"]' < "$WORK/a.json")" "['CN=Probe Client CA']" "port $port: the CA names the server lists"
  # The revoked one: refused by an alert, exit 3.
  rc=0; probe_json "127.0.0.1:$port" --client-cert "$WORK/bob.crt" --client-key "$WORK/bob.key" > "$WORK/b.json" || rc=$?
  assert_eq "$rc" 3 "port $port: bob's revoked certificate refused, exit 3"
  assert_eq "$(field '(c["sent"], c["verdict"], c["alert"])' < "$WORK/b.json")" \
    "(True, 'refused-alert', 'certificate revoked')" "port $port: bob"
  # None at all: asked, none sent (what the server then did is its business).
  probe_json "127.0.0.1:$port" > "$WORK/n.json" || true
  assert_eq "$(field '(c["requested"], c["sent"])' < "$WORK/n.json")" "(True, False)" "port $port: no certificate"
done
# Cross-check with openssl: the TLS 1.3 server does refuse bob.
if openssl s_client -connect "127.0.0.1:$P" -cert "$WORK/bob.crt" -key "$WORK/bob.key" \
     -CAfile "$N/sca.pem" <<< $'GET / HTTP/1.0\r\n\r\n' 2>&1 | grep -q "HTTP/1.0 200"; then
  fail "s_client: the TLS 1.3 server answered bob"
fi
# TLS 1.3 on the first server: the handshake completes, the alert comes after.
assert_eq "$(field '(r["ok"], r["tls_version"])' < <(probe_json "127.0.0.1:$P" --client-cert "$WORK/bob.crt" --client-key "$WORK/bob.key" || true))" \
  "(True, 'TLSv1.3')" "TLS 1.3: the server's certificate facts stand beside the refusal"
pass "s_server: accepted and refused (TLS 1.3 after the handshake, TLS 1.2 in it), CA names, none sent"

# The table says it too.
rc=0; ck probe --ca-file "$N/sca.pem" "127.0.0.1:$P" --client-cert "$WORK/bob.crt" --client-key "$WORK/bob.key" > "$WORK/table" || rc=$?
assert_eq "$rc" 3 "table: exit 3"
grep -q "CLIENT CERT" "$WORK/table" || fail "table has no CLIENT CERT column: $(cat "$WORK/table")"
grep -q "refused: certificate revoked" "$WORK/table" || fail "table: $(cat "$WORK/table")"
grep -q "1 asked for the client certificate and did not accept it" "$WORK/table" || fail "summary: $(cat "$WORK/table")"

# --- nginx: ssl_verify_client on, with the CRL. It completes every handshake
# and answers 400, so only an https:// target (one GET) shows the refusal.
nginx_http() { echo "  access_log off;"; nginx_mtls_server "$1" "$N"; }
on_fail() { echo "--- nginx error.log"; tail -20 "$N/logs/error.log"; }
start_nginx_on_a_port "$N" "$N/sca.pem" https nginx_http
U="https://127.0.0.1:$PORT/"
status_with() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --cacert "$N/sca.pem" --cert "$1" --key "$2" "$U"; }
assert_eq "$(status_with "$WORK/alice.crt" "$WORK/alice.key")" 200 "curl: alice"
assert_eq "$(status_with "$WORK/bob.crt" "$WORK/bob.key")" 400 "curl: bob"

rc=0; probe_json "$U" --client-cert "$WORK/alice.crt" --client-key "$WORK/alice.key" > "$WORK/na.json" || rc=$?
assert_eq "$rc" 0 "nginx: alice, exit 0"
assert_eq "$(field '(c["requested"], c["sent"], c["verdict"], c["http_status"])' < "$WORK/na.json")" \
  "(True, True, 'accepted', 200)" "nginx: alice"
rc=0; probe_json "$U" --client-cert "$WORK/bob.crt" --client-key "$WORK/bob.key" > "$WORK/nb.json" || rc=$?
assert_eq "$rc" 3 "nginx: bob, exit 3"
assert_eq "$(field '(r["ok"], c["sent"], c["verdict"], c["http_status"])' < "$WORK/nb.json")" \
  "(True, True, 'refused-http', 400)" "nginx: bob refused by HTTP 400"
probe_json "$U" > "$WORK/nn.json" || true
assert_eq "$(field '(c["requested"], c["sent"], c["verdict"], c["http_status"])' < "$WORK/nn.json")" \
  "(True, False, 'refused-http', 400)" "nginx: none sent: 400"
# Without https:// the probe never speaks HTTP: nginx took bob at the TLS
# level (its ticket came), and that is all the probe claims.
probe_json "127.0.0.1:$PORT" --client-cert "$WORK/bob.crt" --client-key "$WORK/bob.key" > "$WORK/nt.json" || true
assert_eq "$(field '(c["verdict"], c["http_status"])' < "$WORK/nt.json")" "('accepted', None)" "nginx, plain target: TLS only"
pass "nginx: accepted 200, refused 400 (https:// GET), none sent 400; plain target: TLS verdict only"

# --client-user: a certificate in alice's name, for minutes, recorded revoked.
rc=0; probe_json "$U" --client-user alice > "$WORK/nu.json" || rc=$?
assert_eq "$rc" 0 "--client-user alice: exit 0"
assert_eq "$(field '(c["sent"], c["verdict"], c["http_status"])' < "$WORK/nu.json")" "(True, 'accepted', 200)" "--client-user alice"
row=$(db_sql "SELECT hex(serial), not_after - not_before, CASE WHEN sealed_key IS NULL THEN 1 ELSE 0 END FROM crl_canaries WHERE purpose = 'probe'")
serial=${row%%|*}
assert_eq "${row#*|}" "3900|1" "recorded: valid an hour back and five minutes on, no key kept"
db_sql "SELECT hex(der) FROM crl_canaries WHERE purpose = 'probe'" | unhex > "$WORK/pc.der"
openssl x509 -inform DER -in "$WORK/pc.der" -noout -subject -ext extendedKeyUsage > "$WORK/pc.txt"
grep -q "CN = alice" "$WORK/pc.txt" || fail "the probe certificate has alice's subject: $(cat "$WORK/pc.txt")"
ck --json user show alice | grep -q "probe.credential" || fail "the probe credential is audited under alice"
ck crl build --out "$WORK/ca2.crl" > /dev/null
openssl crl -in "$WORK/ca2.crl" -noout -text | grep -q "Serial Number: $serial" || fail "the next CRL lists it"
if ck --json cert list | grep -q "$serial"; then fail "cert list shows the probe certificate"; fi
expect_error "--client-user of a revoked user" "is revoked" -- ck probe "$U" --client-user bob
expect_error "--client-user of nobody" "no user 'nobody'" -- ck probe "$U" --client-user nobody
expect_error "--client-user with --client-cert" "not both" -- \
  ck probe "$U" --client-user alice --client-cert "$WORK/alice.crt" --client-key "$WORK/alice.key"
pass "--client-user: alice's subject, accepted, recorded revoked, in the next CRL, audited"

# --- Bad input: one line naming it, exit 1.
expect_error "a key that is not the certificate's" "does not belong" -- \
  ck probe "$U" --client-cert "$WORK/alice.crt" --client-key "$WORK/bob.key"
expect_error "a certificate without its key" "go together" -- ck probe "$U" --client-cert "$WORK/alice.crt"
echo "not a pem" > "$WORK/junk.pem"
expect_error "a malformed certificate file" "junk.pem" -- \
  ck probe "$U" --client-cert "$WORK/junk.pem" --client-key "$WORK/alice.key"
pass "bad client credentials refused, naming the file"
