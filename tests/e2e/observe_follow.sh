#!/bin/bash
# observe --follow: confirms users as lines are appended, across log rotation
# and truncation, and stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "E2E CA" >/dev/null 2>&1
for u in alice bob carol; do
  ck user create $u --cn $u --email $u@example.org --out "$WORK/old" --password-file "$WORK/$u.pw" >/dev/null
  ck user renew $u --out "$WORK/new" --password-file "$WORK/$u.pw2" >/dev/null
done
LOG="$WORK/access.log"
line() { echo "$(date -u +%Y-%m-%dT%H:%M:%S+00:00) $(serial_of "$WORK/new/$1.crt") SUCCESS 127.0.0.1 \"GET / HTTP/1.1\" 200"; }
held() { ck --json crl status | json 'sorted(h["user"] for h in d["held"])'; }
wait_held() {  # wait_held EXPECTED: poll (not sleep-and-hope) until the follower caught up
  for _ in $(seq 1 100); do [ "$(held)" = "$1" ] && return 0; sleep 0.1; done
  fail "held revocations: expected $1, got $(held)"
}
: > "$LOG"
"$CK_BIN" --home "$H" observe --access-log "$LOG" --follow --interval 1s > "$WORK/follow.out" 2>&1 &
FOLLOW=$!
CLEANUP_CMDS+=("kill $FOLLOW 2>/dev/null")

line alice >> "$LOG"
wait_held "['bob', 'carol']"
mv "$LOG" "$LOG.1"; line bob > "$LOG"                     # rotation
wait_held "['carol']"
: > "$LOG"; echo "junk" >> "$LOG"; line carol >> "$LOG"   # truncation
wait_held "[]"
kill -TERM "$FOLLOW"
rc=0; wait "$FOLLOW" || rc=$?
assert_eq "$rc" 0 "observe --follow stops cleanly on SIGTERM"
grep -q "3 user(s) confirmed" "$WORK/follow.out" || fail "summary: $(cat "$WORK/follow.out")"
pass "observe --follow across rotation and truncation"

rc=0; ck observe --access-log "$WORK/missing.log" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "missing log"
grep -q "missing.log" "$WORK/err" || fail "message: $(cat "$WORK/err")"
rc=0; ck observe --access-log "$LOG.1" --log-format '$remote_addr $status' 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "format without serial"
grep -q "no \$ssl_client_serial" "$WORK/err" || fail "message: $(cat "$WORK/err")"
pass "bad input to observe"
