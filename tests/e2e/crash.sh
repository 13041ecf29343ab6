#!/bin/bash
# Crash safety: a test build kills certkeeper (SIGKILL) at each step of
# create, renew, revoke and crl build (CERTKEEPER_FAULT=point); the next run
# finishes or rolls back, nothing is lost, and `user show` says what happened.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "E2E CA" 2>/dev/null >/dev/null
ck ca show --pem > "$WORK/ca.pem"
crash() {  # crash POINT command... : the command must die at POINT
  local point="$1" rc=0; shift
  CERTKEEPER_FAULT="$point" "$@" > /dev/null 2>&1 || rc=$?
  [ "$rc" = 137 ] || fail "$point: expected SIGKILL (137), got $rc (is this a test build?)"
}
no_temp_files() { ! ls -a "$1" | grep -q '\.tmp-' || fail "temporary file left in $1"; }

# create: killed before commit -> rolled back; the same command then works.
crash create.before_commit ck user create a1 --cn A1 --email a1@example.org --out "$WORK/b"
ck user show a1 >/dev/null 2>&1 && fail "a1 must not exist after a crash before commit"
ck user create a1 --cn A1 --email a1@example.org --out "$WORK/b" --password-file "$WORK/a1.pw" >/dev/null
pass "create.before_commit rolls back"

# create: killed after commit / after the bundle -> recorded, not delivered; the
# operator is told, and renew issues a new one and revokes the undelivered one at once.
for point in create.after_commit deliver.after_p12 deliver.before_mark; do
  u="u-${point%%.*}-${point##*.}"; u="${u//_/-}"
  crash "$point" ck user create "$u" --cn "$u" --email "$u@example.org" --out "$WORK/b"
  no_temp_files "$WORK/b"
  show=$(ck --json user show "$u")
  assert_eq "$(echo "$show" | json 'd["current"]["status"]')" pending "$point: status"
  echo "$show" | json 'd["notes"][0]' | grep -q "certkeeper user renew $u" || fail "$point: note"
  lost=$(echo "$show" | json 'd["current"]["serial"]')
  ck --json user renew "$u" --out "$WORK/b" --password-file "$WORK/$u.pw" > "$WORK/renew.json"
  assert_eq "$(json 'd["superseded_revocation"]' < "$WORK/renew.json")" released "$point: undelivered one is revoked at once"
  ck crl build --out "$WORK/c.pem" >/dev/null
  openssl crl -in "$WORK/c.pem" -noout -text | grep -q "$lost" || fail "$point: undelivered certificate in the CRL"
  openssl pkcs12 -in "$WORK/b/$u.p12" -passin "file:$WORK/$u.pw" -noout 2>/dev/null || fail "$point: new bundle"
  pass "$point: recorded, reported by user show, redelivered by renew"
done

# renew: before commit -> nothing changed; after commit -> old held, new pending.
old=$(serial_of "$WORK/b/a1.crt")
crash renew.before_commit ck user renew a1 --out "$WORK/b"
assert_eq "$(ck --json user show a1 | json 'd["current"]["serial"]')" "$old" "renew.before_commit keeps the current certificate"
assert_eq "$(ck --json crl status | json 'len(d["held"])')" 0 "no hold after a rolled-back renew"
pass "renew.before_commit rolls back"
crash renew.after_commit ck user renew a1 --out "$WORK/b"
assert_eq "$(ck --json crl status | json 'd["held"][0]["serial"]')" "$old" "renew.after_commit holds the old one"
ck user confirm a1 >/dev/null 2>&1 && fail "confirm must refuse while the newest certificate was never delivered"
ck user renew a1 --out "$WORK/b" --password-file "$WORK/a1.pw2" >/dev/null
ck user confirm a1 >/dev/null
pass "renew.after_commit: old revocation held, pending one redelivered"

# revoke: killed before commit -> not revoked; again -> revoked.
crash revoke.before_commit ck user revoke a1 --reason keyCompromise
assert_eq "$(ck --json user show a1 | json 'd["current"]["status"]')" active "revoke rolled back"
ck user revoke a1 --reason keyCompromise >/dev/null
pass "revoke.before_commit rolls back"

# crl build: before commit -> number not used; after commit -> next build continues above it.
ck crl build --out "$WORK/crl-a.pem" >/dev/null
n=$(crl_number "$WORK/crl-a.pem")
crash crl.before_commit ck crl build --out "$WORK/crl-b.pem"
[ -e "$WORK/crl-b.pem" ] && fail "no CRL file after a crash before commit"
ck crl build --out "$WORK/crl-b.pem" >/dev/null
assert_eq "$(crl_number "$WORK/crl-b.pem")" "$((n + 1))" "crl.before_commit leaves the number unused"
crash crl.after_commit ck crl build --out "$WORK/crl-c.pem"
[ -e "$WORK/crl-c.pem" ] && fail "crl.after_commit: file is written only after the commit"
ck crl build --out "$WORK/crl-c.pem" >/dev/null
assert_eq "$(crl_number "$WORK/crl-c.pem")" "$((n + 3))" "crl.after_commit: next number above the recorded one"
openssl crl -in "$WORK/crl-c.pem" -CAfile "$WORK/ca.pem" -noout 2>&1 | grep -q "verify OK" || fail "CRL verifies"
no_temp_files "$H"
pass "crl build crash points"

# user import: killed before a batch's commit -> nothing of it issued; the same import then works.
printf 'user,cn,email\ni1,I1,i1@example.org\ni2,I2,i2@example.org\n' > "$WORK/i.csv"
crash import.before_commit ck user import "$WORK/i.csv" --out "$WORK/i"
ck user show i1 >/dev/null 2>&1 && fail "import.before_commit: nothing may be issued"
ck user import "$WORK/i.csv" --out "$WORK/i" > "$WORK/i.out"
for u in i1 i2; do
  pw=$(awk -v u="$u" '$1 == u { print $3 }' "$WORK/i.out")
  openssl pkcs12 -in "$WORK/i/$u.p12" -passin "pass:$pw" -noout 2>/dev/null || fail "import.before_commit: $u bundle"
done
pass "import.before_commit rolls the batch back; the same import then works"

# observe: the renewed certificate seen in the access log releases the held
# one. Killed before the commit -> still held, the next run confirms; after it
# -> released once (the next run finds nothing more to do).
ck user create o1 --cn O1 --email o1@example.org --out "$WORK/o" --password-file "$WORK/o1.pw" >/dev/null
ck user renew o1 --out "$WORK/o" --password-file "$WORK/o1.pw2" >/dev/null
held_o1() { ck --json crl status | json 'len([h for h in d["held"] if h["user"] == "o1"])'; }
echo "$(date -u +%Y-%m-%dT%H:%M:%S+00:00) $(serial_of "$WORK/o/o1.crt") SUCCESS 127.0.0.1 \"GET / HTTP/1.1\" 200" > "$WORK/access.log"
crash observe.before_commit ck observe --access-log "$WORK/access.log"
assert_eq "$(held_o1)" 1 "observe.before_commit: still held"
crash observe.after_commit ck observe --access-log "$WORK/access.log"
assert_eq "$(held_o1)" 0 "observe.after_commit: released"
ck observe --access-log "$WORK/access.log" > "$WORK/obs.out" || fail "observe after a crash: $(cat "$WORK/obs.out")"
assert_eq "$(held_o1)" 0 "observe again"
assert_eq "$(ck --json user show o1 | json 'd["current"]["status"]')" active "o1 still active"
pass "observe.before_commit leaves it held; observe.after_commit released it once"
