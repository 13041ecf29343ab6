#!/bin/bash
# observe tells when the access log is not in its format: a real nginx logging
# in its default `combined` format is refused (one line naming the file, the
# format expected and the log_format line to paste), once and in --follow mode;
# a log mixing good and bad lines still confirms and counts the bad ones; an
# empty log is not an error.
. "$(dirname "$0")/lib.sh" "$1"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/install-deps.sh)"

ck ca init --name "E2E CA" >/dev/null 2>&1
ck user create alice --cn alice --email alice@example.org --out "$WORK/old" --password-file "$WORK/alice.pw" >/dev/null
ck user renew alice --out "$WORK/new" --password-file "$WORK/alice.pw2" >/dev/null
held() { ck --json crl status | json 'sorted(h["user"] for h in d["held"])'; }
assert_eq "$(held)" "['alice']" "alice's old certificate is held"

# nginx with `access_log FILE;` and no format: nginx's default, combined.
N="$WORK/nginx"; mkdir -p "$N/logs" "$N/tmp"
LOG="$N/logs/access.log"
nginx_http() {
  cat <<CONF
  access_log $LOG;
  server {
    listen 127.0.0.1:$1;
    location / { return 200 "hello\n"; }
  }
CONF
}
on_fail() { echo "--- access.log"; cat "$LOG"; echo "--- stderr"; cat "$WORK/err" 2>/dev/null; }
start_nginx_on_a_port "$N" /dev/null http nginx_http
curl -s -o /dev/null "http://127.0.0.1:$PORT/a"
curl -s -o /dev/null -A "Mozilla/5.0 (X11; Linux x86_64)" -e "https://example.org/x y" "http://127.0.0.1:$PORT/b?c=d"
# nginx writes the log line after the response: wait for both.
for _ in $(seq 1 50); do [ "$(wc -l < "$LOG")" -ge 3 ] && break; sleep 0.1; done
[ "$(wc -l < "$LOG")" -ge 3 ] || fail "nginx logged $(wc -l < "$LOG") lines"
grep -q '"GET /b?c=d HTTP/1.1" 200 6 "https://example.org/x y" "Mozilla' "$LOG" || fail "not a combined log"
PASTE="log_format certkeeper '\$time_iso8601 \$ssl_client_serial \$ssl_client_verify \$remote_addr \"\$request\" \$status';"

expect_error "observe: a combined log" "$LOG" -- ck observe --access-log "$LOG"
grep -qF "certkeeper's log format" "$WORK/err" || fail "names the format expected: $(cat "$WORK/err")"
grep -qF "$PASTE" "$WORK/err" || fail "gives the log_format line: $(cat "$WORK/err")"
expect_error "observe --json: a combined log" "$PASTE" -- ck --json observe --access-log "$LOG"
[ ! -s "$WORK/out" ] || fail "--json printed a result: $(cat "$WORK/out")"
expect_error "observe --log-format: a combined log" "the --log-format given" -- \
  ck observe --access-log "$LOG" --log-format '$remote_addr $ssl_client_serial $ssl_client_verify [$time_local] "$request" $status'
grep -qF "$PASTE" "$WORK/err" || fail "gives the log_format line: $(cat "$WORK/err")"
expect_error "observe --follow: a combined log" "$LOG" -- \
  timeout 20 "$CK_BIN" --home "$H" observe --access-log "$LOG" --follow --interval 1s
grep -qF "$PASTE" "$WORK/err" || fail "gives the log_format line: $(cat "$WORK/err")"

# --follow on an empty log waits (nothing to say yet); the first lines nginx
# then writes are combined: it stops with the same line.
: > "$LOG"
before=$(db_dump)
timeout 20 "$CK_BIN" --home "$H" observe --access-log "$LOG" --follow --interval 1s > "$WORK/follow.out" 2> "$WORK/err" &
FOLLOW=$!
CLEANUP_CMDS+=("kill $FOLLOW 2>/dev/null")
sleep 1.5
kill -0 "$FOLLOW" 2>/dev/null || fail "observe --follow stopped on an empty log: $(cat "$WORK/err")"
curl -s -o /dev/null "http://127.0.0.1:$PORT/c"
rc=0; wait "$FOLLOW" || rc=$?
assert_eq "$rc" 1 "observe --follow: first lines not in the format"
assert_eq "$(wc -l < "$WORK/err")" 1 "one line"
grep -qF "$LOG" "$WORK/err" && grep -qF "$PASTE" "$WORK/err" || fail "message: $(cat "$WORK/err")"
assert_eq "$(db_dump)" "$before" "store unchanged"
pass "observe --follow: stops on a first batch of combined lines: $(cat "$WORK/err")"

# A zero-line log is not an error.
: > "$WORK/empty.log"
ck observe --access-log "$WORK/empty.log" > "$WORK/out"
grep -q "^0 lines read" "$WORK/out" || fail "empty log: $(cat "$WORK/out")"
pass "observe: an empty log is read without error"

# Mixed: nginx's combined lines, junk, and one line in certkeeper's format
# (alice's new certificate): alice is confirmed, the rest counted as skipped.
curl -s -o /dev/null "http://127.0.0.1:$PORT/d"
for _ in $(seq 1 50); do [ "$(wc -l < "$LOG")" -ge 2 ] && break; sleep 0.1; done
MIXED="$WORK/mixed.log"
{ cat "$LOG"
  echo "$(date -u +%Y-%m-%dT%H:%M:%S+00:00) $(serial_of "$WORK/new/alice.crt") SUCCESS 127.0.0.1 \"GET / HTTP/1.1\" 200"
  echo "junk"; } > "$MIXED"
bad=$(( $(wc -l < "$MIXED") - 1 ))
ck --json observe --access-log "$MIXED" > "$WORK/mixed.json"
assert_eq "$(json '[c["user"] for c in d["confirmed"]]' < "$WORK/mixed.json")" "['alice']" "mixed log confirms alice"
assert_eq "$(json 'd["junk"]' < "$WORK/mixed.json")" "$bad" "mixed log counts the bad lines"
assert_eq "$(held)" "[]" "alice's held revocation released"
pass "observe: a mixed log confirms and counts $bad lines not in the format"
