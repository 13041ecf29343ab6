#!/bin/bash
# `store backup` and `store verify`, and the restore drill: a backup taken
# while another command writes is one consistent snapshot (sqlite3's
# integrity check, every user either in or out), 0600, never written over an
# existing file; verify checks integrity, schema, the CA key with the
# passphrase and the CRL state, and refuses a damaged file or a wrong
# passphrase. Then: issue and revoke more, publish, restore the backup; the
# next `crl build` refuses to reuse or lower the published CRL number until
# `store reconcile`, after which the CRL keeps every published revocation
# with a higher number (openssl verify -crl_check says carol is revoked).
# On PostgreSQL the backup (a SQLite file) is restored into a new database
# with `store copy`.
. "$(dirname "$0")/lib.sh" "$1"
export CERTKEEPER_CA_PASSPHRASE=backup-pass
mkdir -p "$H" "$WORK/pub"
printf '[crl]\nout = "%s"\n' "$WORK/pub/ca.crl" > "$H/certkeeper.toml"
ck ca init --name "Backup CA" > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
mk() { ck user create "$1" --cn "$1" --email "$1@example.org" --out "$WORK/b" --password-file "$WORK/$1.pw" > /dev/null; }
mk alice; mk bob
ck user revoke bob > /dev/null
ck crl build > /dev/null
assert_eq "$(crl_number "$WORK/pub/ca.crl")" 1 "CRL #1 published"

# --- a backup while users are being created
( for i in $(seq 1 15); do mk "w$i" || exit 1; done ) &
WRITER=$!
for _ in $(seq 200); do [ "$(db_sql "SELECT count(*) FROM users")" -ge 4 ] && break; sleep 0.05; done
ck --json store backup "$WORK/b1.db" > "$WORK/b1.json" || fail "store backup"
wait "$WRITER" || fail "the writer beside the backup failed"
assert_eq "$(stat -c %a "$WORK/b1.db")" 600 "backup file mode"
assert_eq "$(sqlite3 "$WORK/b1.db" 'PRAGMA integrity_check')" ok "integrity of the backup"
[ ! -e "$WORK/b1.db-wal" ] || fail "the backup left a WAL beside it"
ls -a "$WORK" | grep -q '\.b1\.db\.tmp' && fail "a temporary file is left"
# One snapshot: a user is in the backup with their certificate and audit, or not at all.
n_users=$(sqlite3 "$WORK/b1.db" "SELECT count(*) FROM users")
n_certs=$(sqlite3 "$WORK/b1.db" "SELECT count(*) FROM certificates")
[ "$n_users" -ge 4 ] && [ "$n_users" -le 17 ] || fail "users in the backup: $n_users"
assert_eq "$(sqlite3 "$WORK/b1.db" "SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM certificates c WHERE c.user_id = u.id)")" 0 \
  "every user in the backup has their certificate"
assert_eq "$(json 'd["rows"] > 0, d["file"]' < "$WORK/b1.json")" "(True, '$WORK/b1.db')" "--json"
pass "store backup during writes: one snapshot ($n_users users, $n_certs certificates), 0600, integrity ok"

# Killed after the copy is complete and synced, before it is named: no
# backup file; the next backup removes the dead run's temporary file.
if [ "$(basename "$CK_BIN")" = certkeeper-faults ]; then
  rc=0; CERTKEEPER_FAULT=backup.before_link ck store backup "$WORK/b2.db" > /dev/null 2>&1 || rc=$?
  assert_eq "$rc" 137 "backup.before_link: killed"
  [ ! -e "$WORK/b2.db" ] || fail "backup.before_link: a backup file was named"
  ls -a "$WORK" | grep -q '^\.b2\.db\.tmp-' || fail "backup.before_link: no temporary file (the kill came too early?)"
  ck store backup "$WORK/b2.db" > /dev/null || fail "the backup after a killed one"
  ls -a "$WORK" | grep -q '^\.b2\.db\.tmp-' && fail "the dead run's temporary file is left"
  assert_eq "$(sqlite3 "$WORK/b2.db" 'PRAGMA integrity_check')" ok "the backup after a killed one"
  pass "backup.before_link: killed before naming, no file; the next backup cleans up and writes it"
fi

echo "precious" > "$WORK/taken.db"
expect_error "an existing backup file" "$WORK/taken.db" -- ck store backup "$WORK/taken.db"
assert_eq "$(cat "$WORK/taken.db")" "precious" "an existing file is not overwritten"
expect_error "a backup into a missing folder" "$WORK/nowhere" -- ck store backup "$WORK/nowhere/b.db"

# --- verify (it reads the backup only: same bytes, no side files, a
# read-only backup works)
sum=$(sha256sum < "$WORK/b1.db")
ck store verify "$WORK/b1.db" > "$WORK/v1.txt" || fail "verify: $(cat "$WORK/v1.txt")"
assert_eq "$(sha256sum < "$WORK/b1.db")" "$sum" "verify leaves the backup's bytes as they were"
[ ! -e "$WORK/b1.db-wal" ] && [ ! -e "$WORK/b1.db-shm" ] || fail "verify left SQLite side files"
cp "$WORK/b1.db" "$WORK/ro.db"; chmod 0400 "$WORK/ro.db"
ck store verify "$WORK/ro.db" > /dev/null || fail "verify of a read-only backup"
grep -q "^backup $WORK/b1.db: integrity ok, schema [0-9]*$" "$WORK/v1.txt" || fail "verify text: $(cat "$WORK/v1.txt")"
grep -q "CA 'Backup CA': key encrypted in the store, decrypts, matches the CA certificate" "$WORK/v1.txt" ||
  fail "verify key: $(cat "$WORK/v1.txt")"
grep -q "last CRL: #1 of " "$WORK/v1.txt" || fail "verify CRL: $(cat "$WORK/v1.txt")"
expect_error "verify with a wrong passphrase" "wrong CA passphrase" -- \
  env CERTKEEPER_CA_PASSPHRASE=wrong "$CK_BIN" --home "$H" store verify "$WORK/b1.db"
head -c 20000 "$WORK/b1.db" > "$WORK/cut.db"
expect_error "verify a truncated backup" "$WORK/cut.db" -- ck store verify "$WORK/cut.db"
head -c 4096 /dev/urandom > "$WORK/junk.db"
expect_error "verify a file that is no database" "$WORK/junk.db" -- ck store verify "$WORK/junk.db"
expect_error "verify a missing file" "$WORK/missing.db" -- ck store verify "$WORK/missing.db"
cp "$WORK/b1.db" "$WORK/newer.db"; sqlite3 "$WORK/newer.db" "PRAGMA user_version = 999"
sum_newer=$(sha256sum < "$WORK/newer.db")
expect_error "verify a backup from another schema" "$WORK/newer.db' is at schema version 999" -- \
  ck store verify "$WORK/newer.db"
assert_eq "$(sha256sum < "$WORK/newer.db")" "$sum_newer" "a backup of another schema is left as it was"
# The home's own store is not needed to verify (a restore drill on another machine).
expect_error "no home store, wrong passphrase still found" "wrong CA passphrase" -- \
  env CERTKEEPER_CA_PASSPHRASE=wrong "$CK_BIN" --home "$WORK/elsewhere" store verify "$WORK/b1.db"
"$CK_BIN" --home "$WORK/elsewhere" store verify "$WORK/b1.db" > /dev/null || fail "verify from a home without a store"
[ ! -e "$WORK/elsewhere/certkeeper.db" ] || fail "verify made a store in its home"
assert_eq "$(sha256sum < "$WORK/b1.db")" "$sum" "verify leaves the backup as it was"
pass "store verify: integrity, schema, key, CRL state; refuses damage and a wrong passphrase"

# --- more happens after the backup, and is published
mk carol
carol=$(serial_of "$WORK/b/carol.crt")
ck user revoke carol --reason keyCompromise > /dev/null
ck crl build > /dev/null
published=$(crl_number "$WORK/pub/ca.crl")
[ "$published" -ge 2 ] || fail "published CRL #$published"
verify_out "$WORK/b/carol.crt" "$WORK/pub/ca.crl" | grep -q "certificate revoked" || fail "carol revoked when published"
ck store verify "$WORK/b1.db" > "$WORK/v2.txt"
grep -q "holds CRL #$published, newer: after restoring this backup, run \`certkeeper store reconcile --crl $WORK/pub/ca.crl\`" "$WORK/v2.txt" ||
  fail "verify names the reconcile step: $(cat "$WORK/v2.txt")"

# --- restore: the SQLite file put back (PostgreSQL: copied into a new database)
if pg_store; then
  use_home "$WORK/restored"; mkdir -p "$H"
  cp "$WORK/home/certkeeper.toml" "$H/"
  ck store copy --from "sqlite:$WORK/b1.db" --to "$CERTKEEPER_STORE" > /dev/null || fail "restore by store copy"
else
  rm -f "$H/certkeeper.db" "$H/certkeeper.db-wal" "$H/certkeeper.db-shm"
  cp "$WORK/b1.db" "$H/certkeeper.db"
fi
sum=$(sha256sum < "$WORK/pub/ca.crl")
expect_error "crl build from the restored store" "store reconcile --crl $WORK/pub/ca.crl" -- ck crl build
assert_eq "$(sha256sum < "$WORK/pub/ca.crl")" "$sum" "the published CRL is left alone"
ck store reconcile --crl "$WORK/pub/ca.crl" > /dev/null || fail "reconcile"
ck crl build > /dev/null || fail "crl build after reconcile"
next=$(crl_number "$WORK/pub/ca.crl")
[ "$next" -gt "$published" ] || fail "the next CRL #$next is not above the published #$published"
verify_out "$WORK/b/carol.crt" "$WORK/pub/ca.crl" | grep -q "certificate revoked" || fail "carol's revocation was lost"
crl_user_serials "$WORK/pub/ca.crl" | grep -qx "$carol" || fail "carol's serial is not in CRL #$next"
pass "restore drill: build refused until reconcile, then CRL #$next (> #$published) still revokes carol"
