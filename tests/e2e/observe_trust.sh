#!/bin/bash
# observe trusts only what nginx vouches for. A --log-format with a field the
# client writes outside quotes is refused (a basic-auth user name holding
# " <serial> SUCCESS" made up a sighting of alice's certificate), and so is a
# custom format without $ssl_client_verify (nginx logs the serial of a
# certificate it refused). Each: one line naming the variable, exit 1, the
# store unchanged. Quoted, the same request confirms nobody.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "E2E CA" >/dev/null 2>&1
ck user create alice --cn alice --email alice@example.org --out "$WORK/old" --password-file "$WORK/alice.pw" >/dev/null
ck user renew alice --out "$WORK/new" --password-file "$WORK/alice.pw2" >/dev/null
held() { ck --json crl status | json 'sorted(h["user"] for h in d["held"])'; }
assert_eq "$(held)" "['alice']" "alice's old certificate is held"
NEW=$(serial_of "$WORK/new/alice.crt")
T=2026-11-23T08:00:00+00:00

# A client without a certificate (serial '-', NONE) whose basic-auth user
# name is "x <alice's serial> SUCCESS".
printf '%s x %s SUCCESS - NONE /index.html\n' "$T" "$NEW" > "$WORK/forged.log"
expect_error "unquoted \$remote_user" '$remote_user is written by the client' -- \
  ck observe --access-log "$WORK/forged.log" --log-format '$time_iso8601 $remote_user $ssl_client_serial $ssl_client_verify $request_uri'
expect_error "--json: unquoted \$remote_user" '$remote_user is written by the client' -- \
  ck --json observe --access-log "$WORK/forged.log" --log-format '$time_iso8601 $remote_user $ssl_client_serial $ssl_client_verify $request_uri'
[ ! -s "$WORK/out" ] || fail "--json printed a result: $(cat "$WORK/out")"
expect_error "\$http_user_agent in brackets" '$http_user_agent is written by the client' -- \
  ck observe --access-log "$WORK/forged.log" --log-format '$ssl_client_serial $ssl_client_verify [$http_user_agent]'
expect_error "\$request sharing its quotes" '$request is written by the client' -- \
  ck observe --access-log "$WORK/forged.log" --log-format '$ssl_client_serial $ssl_client_verify "$request $status"'
assert_eq "$(held)" "['alice']" "nobody confirmed"

# Without $ssl_client_verify a refused certificate would count.
printf '%s %s "GET / HTTP/1.1" 400\n' "$T" "$NEW" > "$WORK/unverified.log"
expect_error "no \$ssl_client_verify" 'no $ssl_client_verify' -- \
  ck observe --access-log "$WORK/unverified.log" --log-format '$time_iso8601 $ssl_client_serial "$request" $status'
assert_eq "$(held)" "['alice']" "nobody confirmed"

# Quoted, the forged request is a request without a certificate; alice's
# real one confirms her.
QUOTED='$time_iso8601 "$remote_user" $ssl_client_serial $ssl_client_verify "$request_uri"'
printf '%s "x %s SUCCESS" - NONE "/index.html"\n' "$T" "$NEW" > "$WORK/quoted.log"
ck --json observe --access-log "$WORK/quoted.log" --log-format "$QUOTED" > "$WORK/out.json"
assert_eq "$(json 'd["confirmed"]' < "$WORK/out.json")" "[]" "the quoted forgery confirms nobody"
assert_eq "$(json 'd["with_certificate"]' < "$WORK/out.json")" 0 "and is a line without a certificate"
assert_eq "$(held)" "['alice']" "alice still held"
printf '%s "-" %s SUCCESS "/a\\x22b"\n' "$T" "$NEW" >> "$WORK/quoted.log"
ck --json observe --access-log "$WORK/quoted.log" --log-format "$QUOTED" > "$WORK/out.json"
assert_eq "$(json '[c["user"] for c in d["confirmed"]]' < "$WORK/out.json")" "['alice']" "alice's own request confirms her"
assert_eq "$(held)" "[]" "alice released"
pass "observe: quoted client fields cannot make up a certificate"
