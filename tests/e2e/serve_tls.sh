#!/bin/bash
# `certkeeper serve`'s listener: TLS from [serve] tls_cert/tls_key, client
# certificates required with client_ca (certkeeper's own CA issues them), and
# plain HTTP only on loopback unless --insecure-listen. Bad TLS files and
# listen addresses are one line, exit 1, before anything listens.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "E2E CA" > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
for u in alice carol; do
  ck user create $u --cn $u --email $u@example.org --out "$WORK/u" --password-file "$WORK/$u.pw" > /dev/null
  openssl pkcs12 -in "$WORK/u/$u.p12" -passin "file:$WORK/$u.pw" -nodes -out "$WORK/$u-client.pem" 2>/dev/null
done
ck user revoke carol --reason keyCompromise > /dev/null
# serve's own certificate from a separate PKI (what an operator's client trusts).
test_pki
leaf serve DNS:localhost,IP:127.0.0.1
cat "$WORK/serve.pem" "$WORK/inter.pem" > "$WORK/serve-full.pem"
# A client certificate from a CA serve does not trust.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=mallory \
  -keyout "$WORK/mallory.key" -out "$WORK/mallory.pem" 2>/dev/null
cat "$WORK/mallory.pem" "$WORK/mallory.key" > "$WORK/mallory-client.pem"

# conf NAME LINES...: $WORK/NAME.toml with a [serve] section of LINES.
conf() { local f="$WORK/$1.toml"; shift; { echo "[serve]"; printf '%s\n' "$@"; } > "$f"; }
# start_serve CONFIG [ARGS...]: starts serve, waits for its address; sets SERVE_PID, URL.
start_serve() {
  local cfg="$1"; shift
  "$CK_BIN" --home "$H" --config "$cfg" serve "$@" > "$WORK/serve.log" 2>&1 &
  SERVE_PID=$!
  CLEANUP_CMDS+=("kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null")
  for _ in $(seq 100); do
    URL=$(sed -n 's#^certkeeper: serving on \(https\?://[^ ]*\)/ .*#\1#p' "$WORK/serve.log")
    [ -n "$URL" ] && return 0
    kill -0 $SERVE_PID 2>/dev/null || fail "serve did not start: $(cat "$WORK/serve.log")"
    sleep 0.1
  done
  fail "serve did not print its address: $(cat "$WORK/serve.log")"
}
on_fail() { echo "--- serve"; cat "$WORK/serve.log" 2>/dev/null; }
# code URL CURL_ARGS...: the HTTP status, or 000 when no response came.
code() { local u="$1"; shift; curl -s --noproxy '*' -o "$WORK/body" -w '%{http_code}' "$@" "$u" || true; }

# --- TLS without client certificates ---------------------------------------
conf tls "tls_cert = \"$WORK/serve-full.pem\"" "tls_key = \"$WORK/serve.key\""
start_serve "$WORK/tls.toml" --listen 127.0.0.1:0
case "$URL" in https://127.0.0.1:*) ;; *) fail "serve announced $URL, want https";; esac
assert_eq "$(code "$URL/healthz" --cacert "$WORK/root.pem")" 200 "healthz over TLS"
openssl s_client -connect "${URL#https://}" -CAfile "$WORK/root.pem" -verify_return_error \
  -verify_ip 127.0.0.1 < /dev/null > "$WORK/s_client.log" 2>&1 || fail "s_client: $(tail -3 "$WORK/s_client.log")"
assert_eq "$(code "http://${URL#https://}/healthz")" 000 "plain HTTP to the TLS listener"
stop_server $SERVE_PID
pass "TLS listener: the chain verifies (openssl s_client, curl), plain HTTP gets no answer"

# --- client_ca: a client certificate from certkeeper's CA is required -------
conf mtls "tls_cert = \"$WORK/serve-full.pem\"" "tls_key = \"$WORK/serve.key\"" "client_ca = \"$WORK/ca.pem\""
start_serve "$WORK/mtls.toml" --listen 127.0.0.1:0
assert_eq "$(code "$URL/healthz" --cacert "$WORK/root.pem")" 000 "no client certificate"
assert_eq "$(code "$URL/metrics" --cacert "$WORK/root.pem" --cert "$WORK/mallory-client.pem")" 000 "a client certificate from another CA"
assert_eq "$(code "$URL/healthz" --cacert "$WORK/root.pem" --cert "$WORK/alice-client.pem")" 200 "alice's certificate from certkeeper's CA"
assert_eq "$(code "$URL/metrics" --cacert "$WORK/root.pem" --cert "$WORK/alice-client.pem")" 200 "metrics with alice's certificate"
grep -q '^certkeeper_store_up 1$' "$WORK/body" || fail "metrics body: $(head -5 "$WORK/body")"
assert_eq "$(code "$URL/healthz" --cacert "$WORK/root.pem" --cert "$WORK/carol-client.pem")" 000 "carol's revoked certificate"
# A hold keeps the old certificate working (as in the CRL), and the new one works.
ck user renew alice --out "$WORK/u2" --password-file "$WORK/alice.pw2" > /dev/null
openssl pkcs12 -in "$WORK/u2/alice.p12" -passin "file:$WORK/alice.pw2" -nodes -out "$WORK/alice2-client.pem" 2>/dev/null
# The store refresh notices the change within a second or so; under load
# (two test jobs, PostgreSQL) it was once later than a fixed 2 s wait.
rc=1; for _ in $(seq 50); do
  [ "$(code "$URL/healthz" --cacert "$WORK/root.pem" --cert "$WORK/alice2-client.pem")" = 200 ] && { rc=0; break; }; sleep 0.2
done
assert_eq "$rc" 0 "alice's new certificate accepted within 10 s of its issue, without a restart"
assert_eq "$(code "$URL/healthz" --cacert "$WORK/root.pem" --cert "$WORK/alice-client.pem")" 200 "alice's held old certificate"
ck user revoke alice --reason keyCompromise > /dev/null
rc=1; for _ in $(seq 30); do
  [ "$(code "$URL/healthz" --cacert "$WORK/root.pem" --cert "$WORK/alice2-client.pem")" = 000 ] && { rc=0; break; }; sleep 0.2
done
assert_eq "$rc" 0 "alice's new certificate refused within 6 s of its revocation, without a restart"
stop_server $SERVE_PID
pass "client_ca: no certificate, a foreign one and a revoked one refused; certkeeper's served (a held one too)"

# --- bad TLS files: one line, exit 1, nothing listens -------------------------
conf missing "tls_cert = \"$WORK/nope.pem\"" "tls_key = \"$WORK/serve.key\""
expect_error "missing tls_cert" "nope.pem" -- ck --config "$WORK/missing.toml" serve --listen 127.0.0.1:0
head -c 300 /dev/urandom > "$WORK/junk.pem"
conf junk "tls_cert = \"$WORK/junk.pem\"" "tls_key = \"$WORK/serve.key\""
expect_error "junk tls_cert" "junk.pem" -- ck --config "$WORK/junk.toml" serve --listen 127.0.0.1:0
conf mismatch "tls_cert = \"$WORK/serve-full.pem\"" "tls_key = \"$WORK/mallory.key\""
expect_error "a key of another certificate" "mallory.key" -- ck --config "$WORK/mismatch.toml" serve --listen 127.0.0.1:0
conf badca "tls_cert = \"$WORK/serve-full.pem\"" "tls_key = \"$WORK/serve.key\"" "client_ca = \"$WORK/junk.pem\""
expect_error "junk client_ca" "junk.pem" -- ck --config "$WORK/badca.toml" serve --listen 127.0.0.1:0
conf halves "tls_cert = \"$WORK/serve-full.pem\""
expect_error "tls_cert without tls_key" "tls_key" -- ck --config "$WORK/halves.toml" serve --listen 127.0.0.1:0
conf caonly "client_ca = \"$WORK/ca.pem\""
expect_error "client_ca without TLS" "client_ca" -- ck --config "$WORK/caonly.toml" serve --listen 127.0.0.1:0

# --- plain HTTP only on loopback ---------------------------------------------
conf plain
for addr in 0.0.0.0:0 "[::]:0" 127.0.0.1.example.test:0 192.0.2.1:0; do
  expect_error "plain HTTP on $addr" "plain HTTP only on loopback" -- ck --config "$WORK/plain.toml" serve --listen "$addr"
done
expect_error "--listen without a port" "expected HOST:PORT" -- ck --config "$WORK/plain.toml" serve --listen localhost
expect_error "--listen port out of range" "the port must be 0-65535" -- ck --config "$WORK/plain.toml" serve --listen 127.0.0.1:70000
expect_error "--allow-write without a token file" "--allow-write needs" -- ck --config "$WORK/plain.toml" serve --listen 127.0.0.1:0 --allow-write
start_serve "$WORK/plain.toml" --listen "[::1]:0"
assert_eq "$(code "$URL/healthz")" 200 "plain HTTP on ::1"
stop_server $SERVE_PID
start_serve "$WORK/plain.toml" --listen 0.0.0.0:0 --insecure-listen
assert_eq "$(code "http://127.0.0.1:${URL##*:}/healthz")" 200 "--insecure-listen on 0.0.0.0"
stop_server $SERVE_PID
start_serve "$WORK/tls.toml" --listen 0.0.0.0:0
assert_eq "$(code "https://127.0.0.1:${URL##*:}/healthz" --cacert "$WORK/root.pem")" 200 "TLS on 0.0.0.0"
stop_server $SERVE_PID
pass "plain HTTP refused off loopback (0.0.0.0, ::, a name that starts with 127.), allowed with --insecure-listen or TLS"
