#!/usr/bin/env bash
# --dry-run on user renew, user revoke and crl build: each says what a real
# run would do and changes nothing (the store's dump and every file, byte for
# byte, with its mode), and the real run that follows does what it said.
. "$(dirname "$0")/lib.sh" "$1"

# Everything a run could change: the store (its dump; the SQLite file byte for
# byte too, its -wal and -shm being SQLite's scratch), and every file of the
# home and the output folders (content and mode).
state() {
  db_dump
  find "$H" "$WORK/b" "$WORK/crl" -type f ! -name 'certkeeper.db-*' -printf '%m %p\n' 2>/dev/null | sort
  find "$H" "$WORK/b" "$WORK/crl" -type f ! -name 'certkeeper.db-*' -print0 2>/dev/null | sort -z |
    xargs -0 -r sha256sum
}
# dry NAME -- command...: the command exits 0 and changes nothing; its stdout in $WORK/dry.
dry() {
  local name="$1" before after
  shift 2
  before=$(state)
  "$@" > "$WORK/dry" 2> "$WORK/dry.err" || fail "$name: exit $? ($(cat "$WORK/dry.err"))"
  after=$(state)
  [ "$before" = "$after" ] || fail "$name: changed something: $(diff <(echo "$before") <(echo "$after") | head -20)"
}

ck ca init --name "Dry CA" > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
mkdir -p "$WORK/crl"
ck user create alice --cn Alice --email alice@example.org --ou Ops --out "$WORK/b" \
  --password-file "$WORK/a1.pw" > /dev/null
ck crl build --out "$WORK/crl/ca.crl" > /dev/null
first=$(serial_of "$WORK/b/alice.crt")

# user renew --dry-run: the new subject, the hold, where the files would go.
dry "user renew --dry-run" -- ck user renew alice --set ou=Platform --out "$WORK/b" --dry-run
grep -q "^dry run: would renew alice's certificate" "$WORK/dry" || fail "renew dry run: $(cat "$WORK/dry")"
grep -q "subject: .*OU=Platform" "$WORK/dry" || fail "dry run shows the changed OU: $(cat "$WORK/dry")"
grep -q "supersedes:  $first (revocation would be held" "$WORK/dry" || fail "dry run names the hold: $(cat "$WORK/dry")"
grep -q "bundle:      $WORK/b/alice.p12" "$WORK/dry" || fail "dry run names the bundle: $(cat "$WORK/dry")"
grep -q "password:    would be shown once" "$WORK/dry" || fail "dry run: password: $(cat "$WORK/dry")"
[ ! -e "$WORK/new-folder" ] || fail "setup"
# The password file inside the --out folder the real run makes first.
dry "user renew --dry-run into a new --out folder" -- ck user renew alice \
  --out "$WORK/new-folder/deeper" --password-file "$WORK/new-folder/deeper/new.pw" --dry-run
[ ! -e "$WORK/new-folder" ] || fail "a dry run made the --out folder"
grep -q "password:    would be written to $WORK/new-folder/deeper/new.pw" "$WORK/dry" || fail "dry run: password file: $(cat "$WORK/dry")"
dry "user renew --dry-run --json" -- ck --json user renew alice --out "$WORK/b" --dry-run
assert_eq "$(json 'd["dry_run"], d["serial"], d["supersedes"], "password" in d' < "$WORK/dry")" \
  "(True, None, '$first', False)" "renew --dry-run --json"
# Bad input fails as the real run would, with nothing changed.
expect_error "renew --dry-run of an unknown user" "unknown user 'nobody'" -- \
  ck user renew nobody --out "$WORK/b" --dry-run
expect_error "renew --dry-run with a certificate field typo" "ouu" -- \
  ck user renew alice --set ouu=X --out "$WORK/b" --dry-run
touch "$WORK/exists.pw"
expect_error "renew --dry-run onto an existing password file" "exists already" -- \
  ck user renew alice --out "$WORK/b" --password-file "$WORK/exists.pw" --dry-run
# What it said is what the real run does.
ck user renew alice --set ou=Platform --out "$WORK/b" --password-file "$WORK/a2.pw" > "$WORK/real"
grep -q "supersedes:  $first (revocation held" "$WORK/real" || fail "real renew: $(cat "$WORK/real")"
openssl x509 -in "$WORK/b/alice.crt" -noout -subject | grep -q "OU = Platform" || fail "real renew subject"
second=$(serial_of "$WORK/b/alice.crt")
pass "user renew --dry-run: says subject, hold and files; changes nothing; the real run matches"

# crl build --dry-run: the number it would use, what it would add; nothing written.
dry "crl build --dry-run" -- ck crl build --out "$WORK/crl/ca.crl" --dry-run
grep -q "^dry run: would build CRL #2 with " "$WORK/dry" || fail "crl dry run: $(cat "$WORK/dry")"
grep -q "new: $first alice (superseded)" "$WORK/dry" && fail "a held revocation is no entry: $(cat "$WORK/dry")"
grep -q "would write $WORK/crl/ca.crl" "$WORK/dry" || fail "crl dry run names the file: $(cat "$WORK/dry")"
assert_eq "$(crl_number "$WORK/crl/ca.crl")" 1 "the published CRL is still #1"
dry "crl build --if-due --dry-run, not due" -- ck crl build --out "$WORK/crl/ca.crl" --if-due --dry-run
grep -q "^dry run: not due: CRL #1 is unchanged" "$WORK/dry" || fail "if-due dry run: $(cat "$WORK/dry")"

# user revoke --dry-run of the current certificate: the user would be
# disabled and the held revocation released with it.
dry "user revoke --dry-run" -- ck user revoke alice --reason keyCompromise --ticket T9 --dry-run
grep -q "^dry run: would revoke certificate $second of alice (keyCompromise)" "$WORK/dry" || fail "revoke dry run: $(cat "$WORK/dry")"
grep -q "would also release the held revocation of superseded certificate $first" "$WORK/dry" || fail "revoke dry run: release: $(cat "$WORK/dry")"
grep -q "alice would be disabled" "$WORK/dry" || fail "revoke dry run: disabled: $(cat "$WORK/dry")"
dry "user revoke --dry-run --json" -- ck --json user revoke alice --dry-run
assert_eq "$(json 'd["dry_run"], d["serial"], d["user_disabled"]' < "$WORK/dry")" "(True, '$second', True)" "revoke --dry-run --json"
expect_error "revoke --dry-run of an unknown serial" "no certificate with serial" -- \
  ck user revoke alice --serial 0BADC0DE --dry-run
ck user revoke alice --reason keyCompromise --ticket T9 > "$WORK/real"
grep -q "^revoked certificate $second of alice" "$WORK/real" || fail "real revoke: $(cat "$WORK/real")"
grep -q "also released the held revocation of superseded certificate $first" "$WORK/real" || fail "real revoke release"
pass "user revoke --dry-run: says the revocation, the release and the disabling; changes nothing; the real run matches"

# The CRL dry run now sees both entries; so does the real build, and openssl.
dry "crl build --dry-run after the revocation" -- ck crl build --out "$WORK/crl/ca.crl" --if-due --dry-run
grep -q "^dry run: would build CRL #2 " "$WORK/dry" || fail "crl dry run after revoke: $(cat "$WORK/dry")"
grep -q "new: $second alice (keyCompromise) T9" "$WORK/dry" || fail "crl dry run lists the revocation: $(cat "$WORK/dry")"
grep -q "new: $first alice (superseded)" "$WORK/dry" || fail "crl dry run lists the released hold: $(cat "$WORK/dry")"
dry "crl build --dry-run --json" -- ck --json crl build --out "$WORK/crl/ca.crl" --dry-run
assert_eq "$(json 'd["dry_run"], d["number"], sorted(a["serial"] for a in d["added"])' < "$WORK/dry")" \
  "(True, 2, $(python3 -c "print(sorted(['$first', '$second']))"))" "crl --dry-run --json"
ck crl build --out "$WORK/crl/ca.crl" > "$WORK/real"
grep -q "^CRL #2 " "$WORK/real" || fail "real build: $(cat "$WORK/real")"
verify_out "$WORK/b/alice.crt" "$WORK/crl/ca.crl" | grep -q "certificate revoked" || fail "openssl: revoked"
# A file that is not this CA's CRL is refused by the dry run as by the build.
echo "not a crl" > "$WORK/crl/other.crl"
expect_error "crl build --dry-run onto a foreign file" "refusing to replace it" -- \
  ck crl build --out "$WORK/crl/other.crl" --dry-run
pass "crl build --dry-run: number, entries and file as the real build; nothing written; refusals the same"
