#!/bin/bash
# Bad input: one line `certkeeper: error: …` naming the input, exit 1, and the
# store unchanged (a logical dump before and after is compared).
. "$(dirname "$0")/lib.sh" "$1"

CERTKEEPER_CA_PASSPHRASE=right ck ca init --name "E2E CA" >/dev/null
export CERTKEEPER_CA_PASSPHRASE=right
ck user create alice --cn Alice --email alice@example.org --out "$WORK/b" --password-file "$WORK/a.pw" >/dev/null

expect_error "duplicate user" "alice" -- ck user create alice --cn A --email a@example.org --out "$WORK/b"
expect_error "unknown user (renew)" "nobody" -- ck user renew nobody --out "$WORK/b"
expect_error "unknown user (revoke)" "nobody" -- ck user revoke nobody
expect_error "unknown user (confirm)" "nobody" -- ck user confirm nobody
expect_error "unknown user (show)" "nobody" -- ck user show nobody
expect_error "invalid e-mail" "not-mail" -- ck user create bob --cn Bob --email not-mail --out "$WORK/b"
expect_error "country" "DEU" -- ck user create bob --cn Bob --email b@example.org --country DEU --out "$WORK/b"
expect_error "unknown --set field" "shoe" -- ck user renew alice --set shoe=42 --out "$WORK/b"
touch "$WORK/plainfile"
expect_error "--out not a folder" "$WORK/plainfile" -- ck user create bob --cn Bob --email b@example.org --out "$WORK/plainfile"
expect_error "--out cannot be created" "/proc/certkeeper" -- ck user create bob --cn Bob --email b@example.org --out /proc/certkeeper
echo "not a csr" > "$WORK/bad.csr"
expect_error "malformed CSR" "$WORK/bad.csr" -- ck user create bob --cn Bob --email b@example.org --out "$WORK/b" --csr "$WORK/bad.csr"
expect_error "unknown serial" "ABCDEF" -- ck user revoke alice --serial ABCDEF
expect_error "wrong CA passphrase" "passphrase" -- env CERTKEEPER_CA_PASSPHRASE=wrong "$CK_BIN" --home "$H" user create bob --cn Bob --email b@example.org --out "$WORK/b"
expect_error "wrong CA passphrase (crl)" "passphrase" -- env CERTKEEPER_CA_PASSPHRASE=wrong "$CK_BIN" --home "$H" crl build --out "$WORK/x.crl"
expect_error "existing --password-file" "$WORK/a.pw" -- ck user create bob --cn Bob --email b@example.org --out "$WORK/b" --password-file "$WORK/a.pw"

# Databases that are not certkeeper databases. (PostgreSQL: one that was
# never migrated, at the end.)
pg_store || for kind in garbage truncated; do
  H="$WORK/home-$kind"; mkdir -p "$H"
  if [ $kind = garbage ]; then head -c 8192 /dev/urandom > "$H/certkeeper.db"
  else head -c 3000 "$WORK/home/certkeeper.db" > "$H/certkeeper.db"; fi
  sum_before=$(sha256sum < "$H/certkeeper.db")
  rc=0; ck user list > /dev/null 2> "$WORK/err" || rc=$?
  [ "$rc" = 1 ] || fail "$kind database: exit $rc"
  grep -q "^certkeeper: error: .*$H/certkeeper.db" "$WORK/err" || fail "$kind database: $(cat "$WORK/err")"
  assert_eq "$(sha256sum < "$H/certkeeper.db")" "$sum_before" "$kind database left unchanged"
  pass "$kind database: $(cat "$WORK/err")"
done
H="$WORK/home"

# A row holding a word this certkeeper does not know (damaged, or written by a
# newer one) is an error on every read, never a default: a revoked
# certificate read as "active" would be a false green in every report.
db_backup "$WORK/store.bak"
use_home "$WORK/home-damaged"; mkdir -p "$H"
db_restore "$WORK/store.bak"
if pg_store; then
  db_sql "ALTER TABLE certificates DROP CONSTRAINT certificates_status_check; UPDATE certificates SET status = 'actve'"
else
  sqlite3 "$H/certkeeper.db" "PRAGMA ignore_check_constraints = ON; UPDATE certificates SET status = 'actve'"
fi
sum_before=$(db_dump | sha256sum)
for cmd in "user show alice" "cert list" "user renew alice --out $WORK/damaged" "user revoke alice"; do
  rc=0; ck $cmd > /dev/null 2> "$WORK/err" || rc=$?
  [ "$rc" = 1 ] || fail "damaged row ($cmd): exit $rc"
  [ "$(wc -l < "$WORK/err")" = 1 ] && grep -q "^certkeeper: error: .*unknown certificate status 'actve'" "$WORK/err" \
    || fail "damaged row ($cmd): $(cat "$WORK/err")"
done
[ ! -e "$WORK/damaged" ] || fail "a certificate was issued on a damaged store"
assert_eq "$(db_dump | sha256sum)" "$sum_before" "damaged store left unchanged"
pass "damaged row: $(cat "$WORK/err")"
use_home "$WORK/home"

# A PostgreSQL database that certkeeper never migrated: refused, naming it,
# and nothing created in it.
if pg_store; then
  psql -qX "$PG_BASE/postgres" -c "CREATE DATABASE ${PG_DB}_bare" > /dev/null
  CLEANUP_CMDS+=("psql -qX '$PG_BASE/postgres' -c 'DROP DATABASE IF EXISTS ${PG_DB}_bare WITH (FORCE)' > /dev/null 2>&1")
  rc=0; CERTKEEPER_STORE="$PG_BASE/${PG_DB}_bare" ck user list > /dev/null 2> "$WORK/err" || rc=$?
  assert_eq "$rc" 1 "a database never migrated: exit code"
  assert_eq "$(wc -l < "$WORK/err")" 1 "one line: $(cat "$WORK/err")"
  grep -q "^certkeeper: error: .*${PG_DB}_bare" "$WORK/err" || fail "names the database: $(cat "$WORK/err")"
  assert_eq "$(psql -qAtX "$PG_BASE/${PG_DB}_bare" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0 \
    "nothing created in a database never migrated"
  pass "a database never migrated: $(cat "$WORK/err")"
fi

# Malformed input to fingerprint names the file.
echo "-----BEGIN CERTIFICATE-----" > "$WORK/bad.pem"
rc=0; ck fingerprint "$WORK/bad.pem" 2> "$WORK/err" || rc=$?
[ "$rc" = 1 ] && grep -qF "$WORK/bad.pem" "$WORK/err" || fail "malformed PEM: $(cat "$WORK/err")"
pass "malformed PEM: $(cat "$WORK/err")"

# Usage errors exit 2.
rc=0; ck user create 2>/dev/null || rc=$?
assert_eq "$rc" 2 "missing arguments are a usage error"
rc=0; ck expiring --within 3x 2>/dev/null || rc=$?
assert_eq "$rc" 2 "bad duration is a usage error"
pass "usage errors exit 2"
