#!/bin/bash
# observe streams the access log: a ~300 MB log is read in bounded memory (not
# a copy of the log), a line longer than 64 KiB is skipped and counted rather
# than read or fatal, and the one line at the very end that shows alice's new
# certificate still confirms her.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "E2E CA" >/dev/null 2>&1
ck user create alice --cn alice --email alice@example.org --out "$WORK/old" --password-file "$WORK/alice.pw" >/dev/null
ck user renew alice --out "$WORK/new" --password-file "$WORK/alice.pw2" >/dev/null
held() { ck --json crl status | json 'sorted(h["user"] for h in d["held"])'; }
assert_eq "$(held)" "['alice']" "alice's old certificate is held"

# Requests with alice's old certificate (which confirms nothing) and without
# a certificate, a 100 KiB line, then one request with her new certificate.
LOG="$WORK/access.log"
python3 - "$LOG" "$(serial_of "$WORK/old/alice.crt")" "$(serial_of "$WORK/new/alice.crt")" <<'PY'
import sys
path, old, new = sys.argv[1:]
a = f'2026-11-23T08:00:00+00:00 {old} SUCCESS 10.0.0.7 "GET /reports/2026/q3/summary.html?page=1 HTTP/1.1" 200\n'
b = '2026-11-23T08:00:01+00:00 - NONE 10.0.0.8 "GET /favicon.ico HTTP/1.1" 404\n'
chunk = (a + b) * 10000
with open(path, "w") as f:
    for i in range(150):
        f.write(chunk)
        if i == 3:
            f.write('2026-11-23T08:00:02+00:00 - NONE 10.0.0.9 "GET /' + 'x' * 100 * 1024 + ' HTTP/1.1" 414\n')
    f.write(f'2026-11-23T09:00:00+00:00 {new} SUCCESS 10.0.0.7 "GET / HTTP/1.1" 200\n')
PY
size=$(stat -c %s "$LOG"); lines=$(wc -l < "$LOG")
[ "$size" -gt $((250 * 1024 * 1024)) ] || fail "the log has only $size bytes"

/usr/bin/time -f %M -o "$WORK/rss" "$CK_BIN" --home "$H" --json observe --access-log "$LOG" > "$WORK/out.json" 2> "$WORK/err" \
  || fail "observe: $(cat "$WORK/err")"
rss=$(tail -1 "$WORK/rss")
rss_below 65536 "$rss" "observe of a $((size / 1024 / 1024)) MiB log"
assert_eq "$(json '[c["user"] for c in d["confirmed"]]' < "$WORK/out.json")" "['alice']" "alice confirmed by the last line"
assert_eq "$(json 'd["lines"]' < "$WORK/out.json")" "$lines" "every line counted"
assert_eq "$(json 'd["too_long"]' < "$WORK/out.json")" 1 "the 100 KiB line is counted as too long"
assert_eq "$(json 'd["junk"]' < "$WORK/out.json")" 1 "and as not in the format"
assert_eq "$(held)" "[]" "alice's held revocation released"
pass "observe: $((size / 1024 / 1024)) MiB log, $lines lines, peak RSS $rss KiB; 100 KiB line skipped"

# The summary says so too.
ck observe --access-log "$LOG" > "$WORK/out"
grep -qF "1 of them longer than 64 KiB" "$WORK/out" || fail "summary: $(cat "$WORK/out")"
pass "observe summary: $(cat "$WORK/out")"
