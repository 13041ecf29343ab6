#!/bin/bash
# The JSON API's write path against the built binary (issue 18, items 4 and 7):
# no token, a wrong token, a token anywhere but the Authorization header, or a
# server without --allow-write -> 403 and the hold is still held (`user show
# --json`); the right token -> the hold is released, and the next `crl build`
# lists the old serial (openssl crl -text, openssl verify -crl_check). Every
# response is checked for key material.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "API E2E CA" >/dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
for u in alice bob; do
  ck user create $u --cn "$u" --email $u@example.org --out "$WORK/old" --password-file "$WORK/$u.pw" >/dev/null
  ck user renew $u --out "$WORK/new" --password-file "$WORK/$u.pw2" >/dev/null
done
alice_old=$(serial_of "$WORK/old/alice.crt")
bob_old=$(serial_of "$WORK/old/bob.crt")

TOKEN="e2e-$(openssl rand -hex 24)"
printf '%s\n' "$TOKEN" > "$WORK/token"
chmod 600 "$WORK/token"
printf '[serve]\ntoken_file = "%s"\n' "$WORK/token" > "$H/certkeeper.toml"

# held_state USER SERIAL: the revocation state `user show --json` gives that certificate.
held_state() {
  ck --json user show "$1" |
    json "[c.get('revocation', '') for c in d['certificates'] if c['serial'] == '$2'][0]"
}

# start_serve NAME [flags]: `certkeeper serve --listen 127.0.0.1:0`, the port read
# from its "serving on http://127.0.0.1:PORT/" line; sets ${NAME}_PID, ${NAME}_PORT.
start_serve() {
  local name="$1" log="$WORK/$1.log" pid port="" i
  shift
  "$CK_BIN" --home "$H" serve --listen 127.0.0.1:0 "$@" > "$WORK/$name.out" 2> "$log" &
  pid=$!
  CLEANUP_CMDS+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
  for i in $(seq 1 100); do
    port=$(sed -n 's|^certkeeper: serving on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || fail "serve $name did not start: $(cat "$log")"
    sleep 0.1
  done
  [ -n "$port" ] || fail "serve $name printed no port within 10 s: $(cat "$log")"
  printf -v "${name}_PID" '%s' "$pid"
  printf -v "${name}_PORT" '%s' "$port"
}

BODIES="$WORK/bodies"
mkdir -p "$BODIES"
# call PORT METHOD PATH [curl args]: prints the HTTP status; the body is kept in
# $WORK/body and under $BODIES for the key-material check at the end.
call() {
  local port="$1" method="$2" path="$3"
  shift 3
  # A POST carries an empty body (Content-Length: 0): httplib answers one
  # without Content-Length with a bare 400 before any handler runs.
  [ "$method" = POST ] && set -- --data '' "$@"
  curl --noproxy '*' -s -o "$WORK/body" -w '%{http_code}' -X "$method" "$@" \
    "http://127.0.0.1:$port$path"
  cp "$WORK/body" "$(mktemp "$BODIES/XXXXXX")"  # call runs in $(...): no counter survives
}

start_serve rw --allow-write

# Reads first: the hold is listed with its ticket, age and what releases it.
assert_eq "$(call "$rw_PORT" GET /api/v1/holds)" 200 "GET /api/v1/holds"
json "sorted(h['serial'] for h in d['items'])" < "$WORK/body" | grep -q "$alice_old" ||
  fail "alice's old serial is not among the holds: $(cat "$WORK/body")"
assert_eq "$(json "[h['released_by']['command'] for h in d['items'] if h['serial'] == '$alice_old'][0]" < "$WORK/body")" \
  "certkeeper user confirm alice" "what releases alice's hold"
pass "GET /api/v1/holds lists both holds"
assert_eq "$(call "$rw_PORT" GET '/api/v1/certificates?limit=0')" 400 "limit=0"
json "d['error']" < "$WORK/body" | grep -q limit || fail "the 400 does not name limit: $(cat "$WORK/body")"
assert_eq "$(call "$rw_PORT" GET /api/v1/users/nobody)" 404 "unknown user"
pass "a bad parameter is a 400 naming it, an unknown user a 404"

# No token, a wrong one, the token outside the Authorization header: 403, nothing changes.
before=$(db_dump)
assert_eq "$(call "$rw_PORT" POST /api/v1/users/alice/confirm)" 403 "confirm without a token"
json "d['error']" < "$WORK/body" > /dev/null || fail "a 403 without a JSON error: $(cat "$WORK/body")"
assert_eq "$(call "$rw_PORT" POST /api/v1/users/alice/confirm -H "Authorization: Bearer wrong-$TOKEN")" 403 \
  "confirm with a wrong token"
assert_eq "$(call "$rw_PORT" POST /api/v1/users/alice/confirm -H "Authorization: Bearer ${TOKEN%?}")" 403 \
  "confirm with the token's prefix"
assert_eq "$(call "$rw_PORT" POST "/api/v1/users/alice/confirm?token=$TOKEN")" 403 "token in the query"
assert_eq "$(call "$rw_PORT" POST /api/v1/users/alice/confirm -H "Cookie: token=$TOKEN")" 403 "token in a cookie"
assert_eq "$(call "$rw_PORT" POST "/api/v1/holds/$bob_old/release" -H "Authorization: Basic $TOKEN")" 403 \
  "release with another scheme"
rc=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$rw_PORT/api/v1/users/alice/confirm")
assert_eq "$rc" 400 "a POST without Content-Length"
assert_eq "$(db_dump)" "$before" "the store after refused writes"
assert_eq "$(held_state alice "$alice_old")" held "alice's hold after refused writes"
assert_eq "$(held_state bob "$bob_old")" held "bob's hold after refused writes"
pass "no token, a wrong token, a token outside the header: 403 and both holds still held"

# A server without --allow-write refuses even the right token.
start_serve ro
assert_eq "$(call "$ro_PORT" POST /api/v1/users/alice/confirm -H "Authorization: Bearer $TOKEN")" 403 \
  "confirm on a read-only server"
assert_eq "$(held_state alice "$alice_old")" held "alice's hold after the read-only server"
stop_server "$ro_PID"
pass "without --allow-write the right token is refused too"

# The right token: confirm releases alice's hold, release releases bob's.
assert_eq "$(call "$rw_PORT" POST /api/v1/users/alice/confirm -H "Authorization: Bearer $TOKEN")" 200 \
  "confirm with the token"
assert_eq "$(json "d['released']" < "$WORK/body")" "['$alice_old']" "confirm's answer"
assert_eq "$(held_state alice "$alice_old")" released "alice's hold after confirm"
assert_eq "$(call "$rw_PORT" POST "/api/v1/holds/$bob_old/release" -H "authorization: bearer $TOKEN")" 200 \
  "release with the token"
assert_eq "$(held_state bob "$bob_old")" released "bob's hold after release"
assert_eq "$(call "$rw_PORT" POST "/api/v1/holds/$bob_old/release" -H "Authorization: Bearer $TOKEN")" 409 \
  "release of a hold released already"
ck --json user show alice | json "[h['actor'] for h in d['history'] if h['action'] == 'user.confirm'][0]" |
  grep -q '^serve:127\.0\.0\.1' || fail "the confirm is not audited with the caller"
ck --json user show bob | json "[h['actor'] for h in d['history'] if h['action'] == 'hold.release'][0]" |
  grep -q '^serve:127\.0\.0\.1' || fail "the release is not audited with the caller"
# The snapshot is refreshed at once: the holds list no longer has them.
assert_eq "$(call "$rw_PORT" GET /api/v1/holds)" 200 "GET /api/v1/holds after the writes"
assert_eq "$(json "len(d['items'])" < "$WORK/body")" 0 "holds after the writes"
pass "the right token releases the holds, audited as serve:127.0.0.1"

ck crl build --out "$WORK/crl.pem" >/dev/null
openssl crl -in "$WORK/crl.pem" -noout -text > "$WORK/crl.txt"
grep -q "Serial Number: $alice_old" "$WORK/crl.txt" || fail "alice's old serial is not in the CRL"
grep -q "Serial Number: $bob_old" "$WORK/crl.txt" || fail "bob's old serial is not in the CRL"
verify_out "$WORK/old/alice.crt" "$WORK/crl.pem" | grep -q "certificate revoked" || fail "alice's old certificate verifies"
assert_eq "$(verify_crl "$WORK/new/alice.crt" "$WORK/crl.pem")" "$WORK/new/alice.crt: OK" "alice's new certificate"
# The store loop notices the build within a second or so.
for _ in $(seq 1 50); do
  assert_eq "$(call "$rw_PORT" GET /api/v1/crl)" 200 "GET /api/v1/crl"
  [ "$(json "d['entries']" < "$WORK/body")" = "$(grep -c 'Serial Number:' "$WORK/crl.txt")" ] && break
  sleep 0.1
done
assert_eq "$(json "d['entries']" < "$WORK/body")" "$(grep -c 'Serial Number:' "$WORK/crl.txt")" "CRL entries in the API: $(cat "$WORK/body")"
assert_eq "$(crl_user_serials "$WORK/crl.pem" | wc -l)" 2 "users' entries in the CRL"
pass "the next CRL revokes both old serials (openssl crl -text, openssl verify)"

# Every read endpoint answers; no body holds key material.
for p in /api/v1/certificates /api/v1/certificates?kind=client /api/v1/users /api/v1/users/alice \
  /api/v1/endpoints /api/v1/rollouts "/api/v1/audit?user=alice" "/api/v1/audit?serial=$alice_old"; do
  assert_eq "$(call "$rw_PORT" GET "$p")" 200 "GET $p"
done
if grep -l "PRIVATE KEY" "$BODIES"/*; then fail "a response holds key material"; fi
pass "$(ls "$BODIES" | wc -l) responses, none with key material"

kill -TERM "$rw_PID"
rc=0
wait "$rw_PID" || rc=$?
assert_eq "$rc" 0 "serve's exit code on SIGTERM"

# A token file others can read is refused before anything listens.
chmod 644 "$WORK/token"
expect_error "token file readable by others" "token_file" -- \
  "$CK_BIN" --home "$H" serve --listen 127.0.0.1:0 --allow-write
printf 'zqxjk\n' > "$WORK/token"
chmod 600 "$WORK/token"
expect_error "a token too short" "the token is shorter than" -- \
  "$CK_BIN" --home "$H" serve --listen 127.0.0.1:0 --allow-write
if grep -q zqxjk "$WORK/err"; then fail "the error line shows the token"; fi
