#!/usr/bin/env bash
# What certkeeper says about its CRL is true: a failed publish is recorded and
# retried until it succeeds (same CRL when nothing changed), `crl status`
# shows it and `--fail-if-stale` turns it into exit 3; "released since the
# last CRL" agrees with `crl build` even within one second; a clock behind the
# last CRL is named as the cause.
. "$(dirname "$0")/lib.sh" "$1"
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
at() { local when="$1"; shift; FAKETIME="$when" LD_PRELOAD="$FAKETIME_LIB" "$@"; }

mkdir -p "$H" "$WORK/pub" "$WORK/server"
cat > "$WORK/publish" <<'SH'
#!/bin/sh
# Copies the CRL where "servers" read it; fails while $DOWN exists.
echo run >> "$RUNS"
[ -e "$DOWN" ] && { echo "scp: connection refused" >&2; exit 1; }
cp "$1" "$SERVER/ca.crl" && echo "$2" > "$SERVER/tickets"
SH
chmod +x "$WORK/publish"
export RUNS="$WORK/runs" DOWN="$WORK/down" SERVER="$WORK/server"
cat > "$H/certkeeper.toml" <<TOML
[crl]
out = "$WORK/pub/ca.crl"
publish_command = ["$WORK/publish", "{{crl_file}}", "{{tickets}}"]
TOML
ck ca init --name "CRL Truth CA" --crl-validity 7d > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
ck user create alice --cn alice --email alice@example.org --out "$WORK/b" \
  --password-file "$WORK/alice.pw" > /dev/null
counter() { db_sql "select value from counters where name='crl_number'"; }
runs() { [ -e "$RUNS" ] && wc -l < "$RUNS" || echo 0; }

# --- 3. a failed publish is retried until it succeeds ----------------------
ck user revoke alice --reason keyCompromise --ticket T1 > /dev/null
touch "$DOWN"
rc=0; ck crl build > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "failed publish: exit code"
n=$(counter)
ck crl status > "$WORK/status" 2>&1
grep -q "publish FAILED at .*connection refused" "$WORK/status" || fail "status: $(cat "$WORK/status")"
rc=0; ck crl status --fail-if-stale > "$WORK/status" 2>&1 || rc=$?
assert_eq "$rc" 3 "--fail-if-stale after a failed publish"
grep -q "stale: CRL #$n is not published" "$WORK/status" || fail "stale reason: $(cat "$WORK/status")"
assert_eq "$(ck --json crl status | json 'd["last_crl"]["publish"]')" failed "status --json"
pass "a failed publish is recorded and shown; --fail-if-stale exits 3"

rc=0; ck crl build --if-due > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "--if-due while publishing still fails: exit code"
grep -q "publishing failed" "$WORK/err" || fail "retry message: $(cat "$WORK/err")"
assert_eq "$(counter)" "$n" "the retry used no new CRL number"
assert_eq "$(runs)" 2 "the publish command ran again"
[ ! -e "$WORK/server/ca.crl" ] || fail "nothing reached the server yet"

rm "$DOWN"
ck crl build --if-due > "$WORK/out"
grep -q "^published CRL #$n " "$WORK/out" || fail "success line: $(cat "$WORK/out")"
assert_eq "$(counter)" "$n" "the successful retry used no new CRL number"
cmp -s "$WORK/pub/ca.crl" "$WORK/server/ca.crl" || fail "the server got the CRL"
assert_eq "$(cat "$WORK/server/tickets")" "T1" "the retry passes the CRL's tickets"
verify_out "$WORK/b/alice.crt" "$WORK/server/ca.crl" | grep -q "certificate revoked" \
  || fail "openssl sees alice revoked on the server"
ck crl build --if-due > "$WORK/out"
grep -q "^not due" "$WORK/out" || fail "after a good publish: $(cat "$WORK/out")"
assert_eq "$(runs)" 3 "not published again once it succeeded"
ck crl status --fail-if-stale > "$WORK/status" || fail "--fail-if-stale after publishing: $(cat "$WORK/status")"
grep -q "published at " "$WORK/status" || fail "status after publish: $(cat "$WORK/status")"
rc=0; ck crl status --fail-if-stale --before 8d > /dev/null || rc=$?
assert_eq "$rc" 3 "--fail-if-stale --before beyond nextUpdate"
rc=0; at +8d "$CK_BIN" --home "$H" crl status --fail-if-stale > "$WORK/status" 2> /dev/null || rc=$?
assert_eq "$rc" 3 "--fail-if-stale past nextUpdate"
grep -q "past its nextUpdate" "$WORK/status" || fail "past: $(cat "$WORK/status")"
pass "crl build --if-due publishes the same CRL until it succeeds, then rests"

# A crash between the build and the publish: the next --if-due publishes.
ck user create bob --cn bob --email bob@example.org --out "$WORK/b" --password-file "$WORK/bob.pw" > /dev/null
ck user revoke bob > /dev/null
rc=0; CERTKEEPER_FAULT=crl.before_publish ck crl build > /dev/null 2>&1 || rc=$?
[ "$rc" -ge 128 ] || fail "fault point did not kill the build (exit $rc)"
n=$(counter)
rc=0; ck crl status --fail-if-stale > "$WORK/status" 2>&1 || rc=$?
assert_eq "$rc" 3 "--fail-if-stale after a crash before publishing"
grep -q "not known to be published (the run stopped before publishing)" "$WORK/status" || fail "crash status: $(cat "$WORK/status")"
ck crl build --if-due > "$WORK/out"
grep -q "^published CRL #$n " "$WORK/out" || fail "after the crash: $(cat "$WORK/out")"
cmp -s "$WORK/pub/ca.crl" "$WORK/server/ca.crl" || fail "the server got the CRL after the crash"
pass "a crash before publishing is published by the next --if-due"

# The file was changed since: a new CRL, not the changed file.
touch "$DOWN"
ck user create carol --cn carol --email carol@example.org --out "$WORK/b" --password-file "$WORK/carol.pw" > /dev/null
ck user revoke carol > /dev/null
ck crl build > /dev/null 2>&1 || true
n=$(counter)
echo "tampered" > "$WORK/pub/ca.crl"
rm "$DOWN"
ck --json crl build --if-due > "$WORK/out.json"
assert_eq "$(json 'd["number"]' < "$WORK/out.json")" "$((n + 1))" "changed file: a new CRL"
assert_eq "$(crl_number "$WORK/server/ca.crl")" "$((n + 1))" "the server has the new CRL"
pass "a changed CRL file is rebuilt, never handed out"

# A CRL built while no publish command was set is not "out" once one is.
use_home "$WORK/h2"; H2="$H"
ck ca init --name "Later Publish CA" > /dev/null 2>&1
ck crl build > /dev/null
ck crl status --fail-if-stale > /dev/null || fail "no publish command: not stale"
printf '[crl]\npublish_command = ["%s", "{{crl_file}}", "{{tickets}}"]\n' "$WORK/publish" > "$H2/certkeeper.toml"
rm -f "$WORK/server/ca.crl"
rc=0; ck crl status --fail-if-stale > "$WORK/status" || rc=$?
assert_eq "$rc" 3 "a publish command configured since the last CRL"
grep -q "built when no \[crl\] publish_command was set" "$WORK/status" || fail "status: $(cat "$WORK/status")"
ck crl build --if-due > "$WORK/out"
grep -q "^published CRL #1 again" "$WORK/out" || fail "published once configured: $(cat "$WORK/out")"
cmp -s "$H2/ca.crl" "$WORK/server/ca.crl" || fail "the server got the CRL built before the command"
pass "a CRL built before a publish command was configured is published by --if-due"

# The CRL file is gone (a cleanup, a wrong rsync): stale, and --if-due writes a
# new one instead of saying "not due".
rm "$H2/ca.crl"
rc=0; ck crl status --fail-if-stale > "$WORK/status" || rc=$?
assert_eq "$rc" 3 "the CRL file is gone"
grep -q "ca.crl is missing or no longer holds it" "$WORK/status" || fail "status: $(cat "$WORK/status")"
ck --json crl build --if-due > "$WORK/out.json"
assert_eq "$(json 'd["built"], d["number"]' < "$WORK/out.json")" "(True, 2)" "--if-due rebuilds a missing file"
assert_eq "$(crl_number "$H2/ca.crl")" 2 "the file holds the new CRL"
pass "a missing CRL file is stale and rebuilt by --if-due"
use_home "$WORK/home"

# --- 4. "released since the last CRL" agrees with crl build ---------------
# The clock is frozen: every release and every build happen in one second
# (30 rounds: the property is deterministic under a frozen clock, and each
# round is six process starts, several of them unlocking the CA key).
frozen() { at "$(date -u -d '+1 hour' '+%Y-%m-%d %H:%M:%S')" "$CK_BIN" --home "$H" "$@"; }
frozen user create dora --cn dora --email dora@example.org --out "$WORK/b" --password-file "$WORK/d.pw" > /dev/null
for i in $(seq 1 30); do
  frozen user renew dora --out "$WORK/b" --password-file "$WORK/d$i.pw" > /dev/null
  frozen user confirm dora > /dev/null
  assert_eq "$(frozen --json crl status | json 'd["released_since_last"]')" 1 "round $i: released before the build"
  frozen crl build > /dev/null
  assert_eq "$(frozen --json crl status | json 'd["released_since_last"]')" 0 "round $i: released after the build"
  assert_eq "$(frozen --json crl build --if-due | json 'd["built"]')" False "round $i: --if-due"
done
pass "30 releases and builds in one second: crl status agrees with crl build"

# --- 7a. the clock behind the last CRL is named ---------------------------
ck user create erin --cn erin --email erin@example.org --validity 2d --out "$WORK/b" --password-file "$WORK/e.pw" > /dev/null
ck user revoke erin > /dev/null
at +5d "$CK_BIN" --home "$H" crl build > /dev/null
expect_error "clock behind the last CRL" "the clock is behind the last CRL" -- \
  at +1d "$CK_BIN" --home "$H" crl build
if grep -q "un-revoke" "$WORK/err"; then fail "names the wrong cause: $(cat "$WORK/err")"; fi
grep -q "(about 4d later)" "$WORK/err" || fail "how far behind: $(cat "$WORK/err")"
