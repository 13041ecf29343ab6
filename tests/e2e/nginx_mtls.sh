#!/bin/bash
# Real nginx with client-certificate auth against certkeeper's CA and CRL:
# a valid client certificate gets 200, a revoked one is refused, and a held
# revocation keeps the old certificate working until the user confirms.
. "$(dirname "$0")/lib.sh" "$1"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/install-deps.sh)"

ck ca init --name "E2E CA" 2>/dev/null >/dev/null
ck ca show --pem > "$WORK/ca.pem"
for u in alice bob carol; do
  ck user create $u --cn $u --email $u@example.org --out "$WORK/old" --password-file "$WORK/$u.pw" >/dev/null
  openssl pkcs12 -in "$WORK/old/$u.p12" -passin "file:$WORK/$u.pw" -nodes -out "$WORK/$u-old.pem" 2>/dev/null
done
ck user revoke bob --reason keyCompromise >/dev/null
ck user renew carol --out "$WORK/new" --password-file "$WORK/carol.pw2" >/dev/null
openssl pkcs12 -in "$WORK/new/carol.p12" -passin "file:$WORK/carol.pw2" -nodes -out "$WORK/carol-new.pem" 2>/dev/null
ck crl build --out "$WORK/ca.crl" >/dev/null

# The server's own certificate comes from a separate throwaway CA.
N="$WORK/nginx"; mkdir -p "$N/logs" "$N/tmp"
server_pki "$N"

nginx_http() {
  cat <<CONF
  log_format certkeeper '\$time_iso8601 \$ssl_client_serial \$ssl_client_verify \$remote_addr "\$request" \$status';
  access_log $N/logs/access.log certkeeper;
CONF
  nginx_mtls_server "$1" "$N"
}
on_fail() { echo "--- nginx error.log"; tail -20 "$N/logs/error.log"; echo "--- stdout"; cat "$N/logs/stdout.log"; }
status_with() { curl -s -o /dev/null -w '%{http_code}' --cacert "$N/sca.pem" --cert "$1" "https://127.0.0.1:$PORT/"; }

start_nginx_on_a_port "$N" "$N/sca.pem" https nginx_http
assert_eq "$(status_with "$WORK/alice-old.pem")" 200 "valid client certificate"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$N/sca.pem" "https://127.0.0.1:$PORT/")" 400 "no client certificate"
assert_eq "$(status_with "$WORK/bob-old.pem")" 400 "revoked client certificate"
grep -q "certificate revoked" "$N/logs/error.log" || fail "nginx should log the revocation"
assert_eq "$(status_with "$WORK/carol-old.pem")" 200 "held: carol's old certificate still works"
assert_eq "$(status_with "$WORK/carol-new.pem")" 200 "carol's new certificate works"
pass "nginx: valid 200, revoked refused, held still 200"

# Carol has used her new certificate (the request above is in the access
# log): `observe` reads the real log and releases her held revocation; the
# next CRL revokes her old certificate; reload nginx.
echo "this line is not in the log format" >> "$N/logs/access.log"
ck --json observe --access-log "$N/logs/access.log" > "$WORK/observe.json"
assert_eq "$(json '[c["user"] for c in d["confirmed"]]' < "$WORK/observe.json")" "['carol']" "observe confirms carol only"
assert_eq "$(json 'd["junk"]' < "$WORK/observe.json")" 1 "junk lines counted"
ck --json user show carol | json '[h["action"] for h in d["history"]]' | grep -q "user.observe" || fail "audit records the sighting"
ck crl build --out "$WORK/ca.crl" >/dev/null
# Reload, and wait until the old worker (which still has the old CRL) is gone.
nginx_reload "$NGINX_PID"
assert_eq "$(status_with "$WORK/carol-old.pem")" 400 "carol's old certificate after confirm"
assert_eq "$(status_with "$WORK/carol-new.pem")" 200 "carol's new certificate after confirm"
pass "nginx: after observe + crl build + reload, the old certificate is refused"
