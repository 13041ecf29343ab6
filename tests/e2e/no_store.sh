#!/usr/bin/env bash
# A home without a store is an error, never an empty inventory: every command
# that reads the store fails with one line naming the home and the command
# that creates one, and creates nothing. Commands that need no store work
# without one and create nothing either.
. "$(dirname "$0")/lib.sh"

T="$WORK/typo"
# expect_no_store NAME -- command...: exit 1, one line naming the home and
# `ca init`, and the home still does not exist.
expect_no_store() {
  local name="$1" rc=0
  shift 2
  "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
  [ "$rc" = 1 ] || fail "$name: exit $rc, want 1 (stdout: $(cat "$WORK/out"))"
  [ "$(wc -l < "$WORK/err")" = 1 ] || fail "$name: want one stderr line: $(cat "$WORK/err")"
  grep -q "^certkeeper: error: no certkeeper store in home '$T'" "$WORK/err" \
    || fail "$name: message: $(cat "$WORK/err")"
  grep -qF 'certkeeper ca init' "$WORK/err" || fail "$name: no pointer to ca init: $(cat "$WORK/err")"
  [ ! -s "$WORK/out" ] || fail "$name: printed on stdout: $(cat "$WORK/out")"
  [ ! -e "$T" ] || fail "$name: created $(find "$T")"
  pass "$name"
}
typo() { "$CK_BIN" --home "$T" "$@"; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=x.test \
  -addext subjectAltName=DNS:x.test -keyout "$WORK/x.key" -out "$WORK/x.pem" 2> /dev/null

# plan CERTIFICATE_LINE: a one-target plan (a dead endpoint, a no-op deploy).
plan() {
  printf '[certificate]\n%s\n[[stage]]\nname = "all"\n[[stage.target]]\nname = "a"\n' "$1"
  printf 'endpoints = ["127.0.0.1:1"]\n[stage.target.deploy]\nkind = "command"\ncommand = ["true"]\n'
}
plan 'name = "wildcard"' > "$WORK/plan-stored.toml"

expect_no_store "expiring --fail-if-any" -- typo expiring --fail-if-any
expect_no_store "expiring --json" -- typo --json expiring
expect_no_store "cert list" -- typo cert list
expect_no_store "user list" -- typo user list
expect_no_store "user show" -- typo user show alice
expect_no_store "user create" -- typo user create alice --cn Alice --email a@example.org
expect_no_store "user renew" -- typo user renew alice
expect_no_store "user revoke" -- typo user revoke alice
expect_no_store "user confirm" -- typo user confirm alice
expect_no_store "ca show" -- typo ca show
expect_no_store "ca show --pem" -- typo ca show --pem
expect_no_store "crl build" -- typo crl build
expect_no_store "crl build --if-due" -- typo crl build --if-due
expect_no_store "crl status" -- typo crl status
expect_no_store "notify" -- typo notify
printf 'x\n' > "$WORK/access.log"
expect_no_store "observe" -- typo observe --access-log "$WORK/access.log"
expect_no_store "acme renew --all" -- typo acme renew --all
expect_no_store "rollout status" -- typo rollout status "$WORK/plan-stored.toml"
expect_no_store "verify of a stored certificate" -- typo verify "$WORK/plan-stored.toml"

# No --home: the default home under $HOME is not created either.
FAKE="$WORK/fakehome"
mkdir -p "$FAKE"
rc=0
env -u CERTKEEPER_HOME -u XDG_DATA_HOME HOME="$FAKE" "$CK_BIN" expiring --fail-if-any \
  > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "default home: exit code"
grep -qF "no certkeeper store in home '$FAKE/.local/share/certkeeper'" "$WORK/err" \
  || fail "default home: message: $(cat "$WORK/err")"
[ -z "$(ls -A "$FAKE")" ] || fail "default home: created $(find "$FAKE")"
pass "default home: not created"

# --store naming a database that does not exist.
mkdir -p "$WORK/h2"
rc=0
"$CK_BIN" --home "$WORK/h2" --store "sqlite:$WORK/h2/other.db" user list > /dev/null \
  2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "--store missing: exit code"
grep -qF "no certkeeper store at 'sqlite:$WORK/h2/other.db'" "$WORK/err" \
  || fail "--store missing: message: $(cat "$WORK/err")"
[ ! -e "$WORK/h2/other.db" ] || fail "--store missing: created the database"
pass "--store missing: refused, nothing created"
# ... and so does CERTKEEPER_STORE, its default.
rc=0
CERTKEEPER_STORE="sqlite:$WORK/h2/env.db" "$CK_BIN" --home "$WORK/h2" user list > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "CERTKEEPER_STORE missing: exit code"
grep -qF "no certkeeper store at 'sqlite:$WORK/h2/env.db'" "$WORK/err" \
  || fail "CERTKEEPER_STORE is not --store's default: $(cat "$WORK/err")"
pass "CERTKEEPER_STORE is --store's default"

# An empty database file (left by an earlier version) is no store, and stays empty.
mkdir -p "$T"
: > "$T/certkeeper.db"
rc=0
typo expiring > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "empty database: exit code"
grep -qF "no certkeeper store in home '$T'" "$WORK/err" \
  || fail "empty database: message: $(cat "$WORK/err")"
[ ! -s "$T/certkeeper.db" ] || fail "empty database: written to"
[ "$(ls -A "$T")" = "certkeeper.db" ] || fail "empty database: created $(ls -A "$T")"
rm -rf "$T"
pass "empty database file: refused, left as it was"

# A database with the schema but neither a CA nor a server certificate (left
# by an earlier version's read command) is no store either.
"$CK_BIN" --home "$WORK/schema-only" cert import --cert "$WORK/x.pem" --key "$WORK/x.key" > /dev/null 2>&1 \
  || fail "cert import for the schema-only home"
sqlite3 "$WORK/schema-only/certkeeper.db" "DELETE FROM server_certs; DELETE FROM audit"
rc=0
"$CK_BIN" --home "$WORK/schema-only" expiring --fail-if-any > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "schema-only database: exit code"
grep -qF "holds no CA and no server certificate" "$WORK/err" || fail "schema-only: $(cat "$WORK/err")"
pass "a database that holds nothing is no store"

# A creating command that fails leaves nothing behind: no store, no home.
for args in "ca init --no-passphrase --name ''" "ca import --no-passphrase --cert $WORK/missing.pem --key $WORK/missing.key" \
            "cert import --cert $WORK/missing.pem --key $WORK/x.key"; do
  rc=0
  eval "\"\$CK_BIN\" --home \"\$T\" $args" > /dev/null 2>&1 || rc=$?
  assert_eq "$rc" 1 "failed '$args': exit code"
  [ ! -e "$T" ] || fail "failed '$args' left $(find "$T")"
done
rc=0
"$CK_BIN" --home "$T" --config "$WORK/missing.toml" ca init --name X > /dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "missing --config: exit code"
[ ! -e "$T" ] || fail "missing --config left $(find "$T")"
pass "failed ca init, ca import, cert import and a missing --config create nothing"

# Commands that need no store work without one and create nothing.
typo fingerprint "$WORK/x.pem" > /dev/null || fail "fingerprint without a store"
rc=0
typo probe 127.0.0.1:1 --timeout 1s > /dev/null 2>&1 || rc=$?
assert_eq "$rc" 3 "probe of a closed port without a store: exit code"
plan "cert_file = \"$WORK/x.pem\"" > "$WORK/plan-files.toml"
typo rollout plan "$WORK/plan-files.toml" > /dev/null || fail "rollout plan of files without a store"
rc=0
typo verify "$WORK/plan-files.toml" --timeout 1s > /dev/null 2>&1 || rc=$?
assert_eq "$rc" 3 "verify of files without a store: exit code"
[ ! -e "$T" ] || fail "a command that needs no store created $(find "$T")"
pass "fingerprint, probe, rollout plan and verify of files: no store needed, none created"

# The commands that put the first thing in a store create it.
typo ca init --name "No Store CA" --no-passphrase > /dev/null || fail "ca init on a new home"
[ -s "$T/certkeeper.db" ] || fail "ca init did not create the store"
typo expiring --fail-if-any > /dev/null || fail "expiring after ca init"
typo user list > /dev/null || fail "user list after ca init"
"$CK_BIN" --home "$WORK/srv" cert import --cert "$WORK/x.pem" --key "$WORK/x.key" > /dev/null \
  2>&1 || fail "cert import on a new home"
"$CK_BIN" --home "$WORK/srv" cert list | grep -q "x.test" || fail "cert list after cert import"
pass "ca init and cert import create the store"
