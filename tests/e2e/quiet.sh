#!/usr/bin/env bash
# --quiet: no summary of what was done and no progress; what was asked for
# (listings, --json, a dry run), warnings, errors, and a password shown once
# are still printed. The work itself is the same: checked with openssl.
. "$(dirname "$0")/lib.sh" "$1"

# quiet NAME -- command...: exit 0, nothing on stdout or stderr.
quiet() {
  local name="$1"
  shift 2
  "$@" > "$WORK/q.out" 2> "$WORK/q.err" || fail "$name: exit $? ($(cat "$WORK/q.err"))"
  [ ! -s "$WORK/q.out" ] || fail "$name: printed: $(cat "$WORK/q.out")"
  [ ! -s "$WORK/q.err" ] || fail "$name: printed on stderr: $(cat "$WORK/q.err")"
}

# A warning is kept with -q (here: the key is not encrypted); the summary is not.
ck -q ca init --name "Quiet CA" > "$WORK/q.out" 2> "$WORK/q.err"
[ ! -s "$WORK/q.out" ] || fail "ca init -q printed: $(cat "$WORK/q.out")"
grep -q "^certkeeper: warning: the CA key is stored without encryption" "$WORK/q.err" ||
  fail "ca init -q keeps its warning: $(cat "$WORK/q.err")"
ck ca show --pem > "$WORK/ca.pem"
# The password exists nowhere else: -q prints it, alone, and it opens the bundle.
ck -q user create alice --cn Alice --email alice@example.org --out "$WORK/b" > "$WORK/pw" 2> "$WORK/err" ||
  fail "user create -q: $(cat "$WORK/err")"
assert_eq "$(wc -l < "$WORK/pw")" 1 "user create -q prints one line"
openssl pkcs12 -in "$WORK/b/alice.p12" -passin file:"$WORK/pw" -nokeys -noout 2> /dev/null ||
  fail "the password user create -q printed does not open the bundle"
quiet "user create -q --password-file" -- ck user create bob --cn Bob --email bob@example.org \
  --out "$WORK/b" --password-file "$WORK/bob.pw" --quiet
quiet "user renew -q" -- ck -q user renew bob --out "$WORK/b" --password-file "$WORK/bob2.pw"
quiet "user confirm -q" -- ck -q user confirm bob
quiet "user revoke -q" -- ck -q user revoke alice --reason keyCompromise
quiet "crl build -q" -- ck -q crl build --out "$WORK/ca.crl"
verify_out "$WORK/b/alice.crt" "$WORK/ca.crl" | grep -q "certificate revoked" || fail "the quiet build's CRL revokes alice"
quiet "store backup -q" -- ck -q store backup "$WORK/backup.db"
[ -s "$WORK/backup.db" ] || fail "no backup written"
pass "-q: ca init, user create/renew/confirm/revoke, crl build, store backup print nothing; user create prints only the password"

# What is asked for is still printed.
ck -q user list | grep -q "^bob " || fail "user list -q lists"
assert_eq "$(ck -q --json user show bob | json 'd["user"]')" bob "--json with -q"
ck -q crl build --out "$WORK/ca.crl" --dry-run | grep -q "^dry run: not due\|^dry run: would build" ||
  fail "a dry run with -q still says what it would do"
printf 'user,cn,email\ncarol,Carol,carol@example.org\n' > "$WORK/users.csv"
ck -q user import "$WORK/users.csv" --out "$WORK/b" > "$WORK/import.out"
assert_eq "$(wc -l < "$WORK/import.out")" 1 "user import -q prints only the user's line"
grep -q "^  carol	[0-9A-F]*	" "$WORK/import.out" || fail "user import -q: $(cat "$WORK/import.out")"
expect_error "an error with -q" "unknown user 'nobody'" -- ck -q user revoke nobody
pass "-q keeps listings, --json, dry runs, user import's passwords and error lines"
