#!/bin/bash
# The CRL file never goes back: two builds at once write (and publish) in
# number order whatever order they finish in; a file holding a newer CRL of
# this CA is never replaced by an older one, and a store older than that file
# (restored from a backup) builds nothing; a file holding another CA's CRL or
# something that is no CRL is refused unless certkeeper wrote it; --if-due
# rewrites a missing or older file.
. "$(dirname "$0")/lib.sh" "$1"

mkdir -p "$H" "$WORK/pub" "$WORK/server"
OUT="$WORK/pub/ca.crl"
cat > "$WORK/publish" <<'SH'
#!/bin/sh
# Copies the file where "servers" read it and logs which number it was told.
cp "$1" "$SERVER/ca.crl" && echo "$2" >> "$SERVER/log"
SH
chmod +x "$WORK/publish"
export SERVER="$WORK/server"
cat > "$H/certkeeper.toml" <<TOML
[crl]
out = "$OUT"
publish_command = ["$WORK/publish", "{{crl_file}}", "{{crl_number}}"]
TOML
ck ca init --name "Order CA" > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
counter() { db_sql "select value from counters where name='crl_number'"; }
revoke_new() {  # revoke_new USER: a new user, revoked; prints the serial
  ck user create "$1" --cn "$1" --email "$1@example.org" --out "$WORK/b" --password-file "$WORK/$1.pw" > /dev/null
  ck user revoke "$1" > /dev/null
  serial_of "$WORK/b/$1.crt"
}
lists() { openssl crl -in "$1" -noout -text | grep -q "Serial Number: $2"; }
verifies() { openssl crl -in "$1" -CAfile "$WORK/ca.pem" -noout 2>&1 | grep -q "verify OK"; }
revoke_new alice > /dev/null
ck crl build > /dev/null
assert_eq "$(crl_number "$OUT")" 1 "first CRL"

# --- 1. A commits #2 and stops before writing; B builds, writes and publishes #3; A goes on.
GATE="$WORK/gate"
CERTKEEPER_FAULT_PAUSE="crl.after_commit:$GATE" "$CK_BIN" --home "$H" --json crl build > "$WORK/a.json" 2> "$WORK/a.err" &
A=$!
for _ in $(seq 500); do [ -e "$GATE.waiting" ] && break; sleep 0.02; done
[ -e "$GATE.waiting" ] || fail "build A did not stop at crl.after_commit (is this a test build?)"
bob=$(revoke_new bob)
ck --json crl build > "$WORK/b.json"
assert_eq "$(crl_number "$OUT")" 3 "B wrote #3"
touch "$GATE"
wait "$A" || fail "build A failed: $(cat "$WORK/a.err")"
assert_eq "$(crl_number "$OUT")" 3 "the file keeps the newer CRL once the older build finishes"
verifies "$OUT" || fail "the file verifies"
lists "$OUT" "$bob" || fail "the file lists bob, revoked between the two builds"
assert_eq "$(crl_number "$SERVER/ca.crl")" 3 "the server keeps the newer CRL too"
assert_eq "$(tr '\n' ' ' < "$SERVER/log")" "1 3 " "publish runs: #2 is not handed out after #3"
assert_eq "$(json 'd["number"], d["superseded_by"], d["path"]' < "$WORK/a.json")" "(2, 3, '')" \
  "build A says it left the newer CRL in place"
pass "two builds at once: the older one finishing last leaves the newer file and publish alone"

# Text output of a superseded build.
CERTKEEPER_FAULT_PAUSE="crl.after_commit:$GATE.2" "$CK_BIN" --home "$H" crl build > "$WORK/a.out" 2>&1 &
A=$!
for _ in $(seq 500); do [ -e "$GATE.2.waiting" ] && break; sleep 0.02; done
ck crl build > /dev/null
touch "$GATE.2"
wait "$A" || fail "build A failed: $(cat "$WORK/a.out")"
grep -q "not written: $OUT already holds the newer CRL #5" "$WORK/a.out" || fail "text: $(cat "$WORK/a.out")"
assert_eq "$(crl_number "$OUT")" 5 "newest CRL kept"
pass "a superseded build says so"

# --- 2. The store is restored from a backup older than the file: a CRL
# built from it would take back what was revoked since (it does not know
# those certificates), so the build is refused, the file and store unchanged.
db_backup "$WORK/db.bak"
carol=$(revoke_new carol)
ck crl build > /dev/null
assert_eq "$(crl_number "$OUT")" 6 "one more build"
lists "$OUT" "$carol" || fail "the file lists carol"
db_backup "$WORK/db.new"
db_restore "$WORK/db.bak"
assert_eq "$(counter)" 5 "restored store"
sum=$(sha256sum < "$OUT")
expect_error "a CRL file newer than the store" "$OUT" -- ck crl build
grep -q "holds CRL #6 of this CA, newer than the store's last (#5)" "$WORK/err" ||
  fail "the refusal names both numbers: $(cat "$WORK/err")"
assert_eq "$(sha256sum < "$OUT")" "$sum" "the published CRL is left alone"
lists "$OUT" "$carol" || fail "carol is still revoked in the file"
assert_eq "$(counter)" 5 "no number used"
# The newest copy of the store back: builds go on.
db_restore "$WORK/db.new"
pass "a file newer than the store: refused, nothing taken back"

# --- 3. --if-due: a missing or older file is rewritten though nothing is due.
cp "$OUT" "$WORK/crl6.pem"
ck crl build > /dev/null
cp "$WORK/crl6.pem" "$OUT"
ck --json crl build --if-due > "$WORK/d.json"
assert_eq "$(json 'd["built"], d["number"]' < "$WORK/d.json")" "(True, 8)" "--if-due over an older file"
assert_eq "$(crl_number "$OUT")" 8 "older file rewritten"
rm "$OUT"
ck --json crl build --if-due > "$WORK/d.json"
assert_eq "$(json 'd["built"]' < "$WORK/d.json")" True "--if-due over a missing file"
assert_eq "$(crl_number "$OUT")" 9 "missing file rewritten"
assert_eq "$(json 'd["built"]' < <(ck --json crl build --if-due))" False "then not due"
pass "--if-due rewrites a missing or older file"

# --- 4. Files certkeeper did not write: another CA's CRL, something else.
use_home "$WORK/h2"
ck ca init --name "Other CA" > /dev/null 2>&1
ck crl build --out "$WORK/other.crl" > /dev/null
use_home "$WORK/home"
cp "$WORK/other.crl" "$WORK/other.orig"
n=$(counter)
expect_error "--out holding another CA's CRL" "holds a CRL that this CA did not issue" -- \
  ck crl build --out "$WORK/other.crl"
cmp -s "$WORK/other.crl" "$WORK/other.orig" || fail "another CA's CRL was changed"
assert_eq "$(counter)" "$n" "no number used"
echo "upstream nameservers" > "$WORK/resolv.conf"
expect_error "--out holding no CRL" "is not a CRL" -- ck crl build --out "$WORK/resolv.conf"
assert_eq "$(cat "$WORK/resolv.conf")" "upstream nameservers" "a file that is no CRL is left alone"
assert_eq "$(counter)" "$n" "no number used"
: > "$WORK/empty.crl"
ck crl build --out "$WORK/empty.crl" > /dev/null
verifies "$WORK/empty.crl" || fail "an empty file is written"
# One certkeeper wrote and that was damaged since is replaced.
echo "truncated" > "$WORK/empty.crl"
ck crl build --out "$WORK/empty.crl" > /dev/null
verifies "$WORK/empty.crl" || fail "a damaged file certkeeper wrote is replaced"
pass "another CA's CRL and a file that is no CRL are refused; an empty or damaged own file is written"

# Writers take turns on a lock file beside the CRL (not on the folder: NFS
# cannot lock a folder opened read-only); a build waits while it is held.
LOCK="$WORK/pub/.ca.crl.lock"
[ -f "$LOCK" ] || fail "no lock file beside the CRL"
flock "$LOCK" -c "touch '$WORK/held'; sleep 2" &
HOLDER=$!
for _ in $(seq 100); do [ -e "$WORK/held" ] && break; sleep 0.02; done
n0=$(crl_number "$OUT")
ck --json crl build > "$WORK/l.json" &
BUILD=$!
sleep 1
assert_eq "$(crl_number "$OUT")" "$n0" "the build waits for the lock before writing"
wait "$HOLDER"; wait "$BUILD" || fail "the build waiting for the lock failed"
assert_eq "$(crl_number "$OUT")" "$(json 'd["number"]' < "$WORK/l.json")" "then writes its CRL"
[ "$(crl_number "$OUT")" -gt "$n0" ] || fail "a newer CRL once the lock is free"
pass "the CRL's writers take turns on .NAME.lock beside it"
