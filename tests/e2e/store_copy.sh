#!/bin/bash
# store copy: a SQLite home into PostgreSQL and back, every row (the SQLite
# dump after the round trip is the one before), and the next CRL built from
# either side lists the same entries with a number above the last one
# published. A copy into a store that is not empty, not migrated, or the
# same store is refused (exit 1, one line) and changes nothing; a failed copy
# into a new SQLite file leaves no file.
. "$(dirname "$0")/lib.sh" "$1"
PG_BASE=$(cat "${CK_TEST_POSTGRES_DIR:?runs through ctest (fixture postgres)}/url")
new_db() {  # new_db NAME: an empty database, dropped at the end; prints its URL
  psql -qX "$PG_BASE/postgres" -c "CREATE DATABASE $1" > /dev/null
  CLEANUP_CMDS+=("psql -qX '$PG_BASE/postgres' -c 'DROP DATABASE IF EXISTS $1 WITH (FORCE)' > /dev/null 2>&1")
  echo "$PG_BASE/$1"
}
PG=$(new_db "ck_copy_$$_a")
"$CK_BIN" --store "$PG" store migrate > /dev/null

# --- A SQLite home with a little of everything.
ck ca init --name "Copy CA" > /dev/null
ck ca show --pem > "$WORK/ca.pem"
for u in alice bob carol dave; do
  ck user create $u --cn "$u" --email $u@example.org --out "$WORK/old" --password-file "$WORK/$u.pw" > /dev/null
done
ck user renew alice --out "$WORK/new" --password-file "$WORK/alice.pw2" > /dev/null  # held
ck user renew bob --out "$WORK/new" --password-file "$WORK/bob.pw2" > /dev/null
ck user confirm bob > /dev/null                                                       # released
ck user revoke dave --reason keyCompromise > /dev/null
ck user disable carol > /dev/null 2>&1 || true
ck crl build --out "$WORK/published.crl" > /dev/null
published=$(crl_number "$WORK/published.crl")
sqlite3 "$H/certkeeper.db" .dump > "$WORK/before.sql"

# --- SQLite -> PostgreSQL.
ck --json store copy --to "$PG" > "$WORK/copy.json" 2> "$WORK/copy.err" ||
  fail "copy to PostgreSQL: $(cat "$WORK/copy.err")"
for t in users certificates revocations crls audit; do
  assert_eq "$(json "d['tables']['$t']" < "$WORK/copy.json")" \
    "$(sqlite3 "$H/certkeeper.db" "select count(*) from $t")" "rows of $t copied"
  assert_eq "$(psql -qAtX "$PG" -c "select count(*) from $t")" \
    "$(sqlite3 "$H/certkeeper.db" "select count(*) from $t")" "rows of $t in PostgreSQL"
done
assert_eq "$(json "d['crl_number']" < "$WORK/copy.json")" "$published" "the CRL number travels"
grep -q "password" "$WORK/copy.json" && fail "the JSON shows a password"
pass "SQLite to PostgreSQL: every table's rows, the CRL number"

# --- PostgreSQL -> a new SQLite file: the same rows as the original.
"$CK_BIN" store copy --from "$PG" --to "sqlite:$WORK/back.db" > "$WORK/back.out" 2>&1 ||
  fail "copy back: $(cat "$WORK/back.out")"
grep -q "^copied [0-9]* rows from $PG_BASE/ck_copy_$$_a to sqlite:$WORK/back.db" "$WORK/back.out" ||
  fail "copy back says what it did: $(cat "$WORK/back.out")"
[ "$(stat -c %a "$WORK/back.db")" = 600 ] || fail "the new SQLite file is 0600"
sqlite3 "$WORK/back.db" .dump > "$WORK/after.sql"
diff "$WORK/before.sql" "$WORK/after.sql" > "$WORK/dump.diff" || fail "round trip changed rows: $(head -20 "$WORK/dump.diff")"
pass "PostgreSQL back to SQLite: the dump is the original's"

# --- The next CRL from each side: same entries, a higher number.
ck crl build --out "$WORK/from_sqlite.crl" > /dev/null
"$CK_BIN" --home "$H" --store "$PG" crl build --out "$WORK/from_pg.crl" > /dev/null
# entries CRL CANARIES: one line per entry (serial, date, reason), without
# the canaries (each build adds one of its own, a new random serial), sorted
# (the order of entries in a CRL carries no meaning).
entries() {
  openssl crl -in "$1" -noout -text | awk '
    /Serial Number:/ { if (s != "") print s; s = $3 }
    /Revocation Date:/ { s = s " " $3 " " $4 " " $5 " " $6 }
    /^ +[A-Z][A-Za-z ]+$/ && s != "" && !/Reason Code/ { r = $0; gsub(/^ +/, "", r); s = s " " r }
    END { if (s != "") print s }' | grep -vFf "$2" | sort || true
}
sqlite3 "$H/certkeeper.db" "select hex(serial) from crl_canaries" > "$WORK/canaries.sqlite"
psql -qAtX "$PG" -c "select upper(encode(serial, 'hex')) from crl_canaries" > "$WORK/canaries.pg"
[ -s "$WORK/canaries.pg" ] || fail "PostgreSQL has the canaries"
assert_eq "$(entries "$WORK/from_pg.crl" "$WORK/canaries.pg" | wc -l)" 2 "the CRL from PostgreSQL lists bob's old and dave's certificates"
assert_eq "$(entries "$WORK/from_pg.crl" "$WORK/canaries.pg")" "$(entries "$WORK/from_sqlite.crl" "$WORK/canaries.sqlite")" \
  "the next CRLs' entries"
assert_eq "$(crl_number "$WORK/from_pg.crl")" $((published + 1)) "the next CRL number from PostgreSQL"
assert_eq "$(crl_number "$WORK/from_sqlite.crl")" $((published + 1)) "the next CRL number from SQLite"
for u in dave bob; do
  verify_out "$WORK/old/$u.crt" "$WORK/from_pg.crl" | grep -q "certificate revoked" ||
    fail "the CRL from PostgreSQL revokes $u's old certificate: $(verify_out "$WORK/old/$u.crt" "$WORK/from_pg.crl")"
done
[ "$(verify_crl "$WORK/old/alice.crt" "$WORK/from_pg.crl")" = "$WORK/old/alice.crt: OK" ] ||
  fail "alice's old certificate is still held (not yet in a CRL)"
pass "the next CRL from either side: the same entries, number $((published + 1))"

# --- Refusals change nothing.
db_of() { pg_dump --data-only --inserts -O -x "$1" | grep -v "^--\|^SET \|^SELECT pg_catalog\|^$\|^.restrict \|^.unrestrict "; }
db_of "$PG" > "$WORK/pg.before"
expect_error "copy into a store with rows" "not empty (table ca holds 1 row); store copy writes only into a new store" -- ck store copy --to "$PG"
db_of "$PG" > "$WORK/pg.after"
cmp -s "$WORK/pg.before" "$WORK/pg.after" || fail "a refused copy changed the destination"
pass "a destination that is not empty: refused, unchanged"

RAW=$(new_db "ck_copy_$$_b")
expect_error "copy into a database not migrated" "not migrated yet" -- ck store copy --to "$RAW"
assert_eq "$(psql -qAtX "$RAW" -c "select count(*) from pg_tables where schemaname = 'public'")" 0 \
  "nothing created in a database not migrated"
pass "a PostgreSQL database not migrated: refused, points to store migrate"

expect_error "copy from a store that does not exist" "$WORK/nothing.db" -- \
  ck store copy --from "sqlite:$WORK/nothing.db" --to "sqlite:$WORK/never.db"
[ ! -e "$WORK/nothing.db" ] && [ ! -e "$WORK/never.db" ] || fail "a copy from nothing made a file"
expect_error "copy onto itself" "--from and --to name the same store" -- ck store copy --from "$PG" --to "$PG"
psql -qX "$PG" -c "CREATE TABLE from_the_future (x integer)" > /dev/null
expect_error "copy of a store from a newer certkeeper" "has a table 'from_the_future' this certkeeper does not know" \
  -- ck store copy --from "$PG" --to "sqlite:$WORK/never.db"
[ ! -e "$WORK/never.db" ] || fail "a failed copy left a SQLite file behind"
pass "the same store, a table it does not know: refused, no file left"
