#!/bin/bash
# Restore cannot rewind (issue 21, item 5): publish, restore the store from
# an older copy, and `crl build` refuses (pointing to store reconcile);
# `store reconcile --crl FILE` takes the published revocations back -- of
# certificates the restored store has as valid, and of ones it never saw --
# and the next CRL lists every one of them under a higher number. A CRL of
# another CA, a file that is no CRL, or a missing file: one line, exit 1,
# store unchanged. Runs over SQLite and (e2e_pg) PostgreSQL.
. "$(dirname "$0")/lib.sh" "$1"

mkdir -p "$H"
OUT="$WORK/pub/ca.crl"
mkdir -p "$WORK/pub"
cat > "$H/certkeeper.toml" <<TOML
[crl]
out = "$OUT"
TOML
ck ca init --name "Reconcile CA" > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
new_user() {  # new_user NAME: creates NAME, certificate in $WORK/o/NAME.crt
  ck user create "$1" --cn "$1" --email "$1@example.org" --out "$WORK/o" --password-file "$WORK/$1.pw" > /dev/null
}
backup() {
  if pg_store; then pg_dump -Fc -f "$WORK/store.bak" "$CERTKEEPER_STORE"
  else sqlite3 "$H/certkeeper.db" ".backup '$WORK/store.bak'"; fi
}
restore() {
  if pg_store; then pg_restore --clean --if-exists --single-transaction -d "$CERTKEEPER_STORE" "$WORK/store.bak"
  else sqlite3 "$H/certkeeper.db" ".restore '$WORK/store.bak'"; fi
}
revoked_in() { verify_out "$1" "$2" | grep -q "certificate revoked"; }

for u in alice bob dave; do new_user $u; done
ck user revoke alice > /dev/null
ck crl build > /dev/null
assert_eq "$(crl_number "$OUT")" 1 "first CRL"
backup
# After the copy: bob revoked (the copy has him valid), carol created and
# revoked (the copy never saw her), dave renewed and confirmed (his old
# certificate released).
cp "$WORK/o/dave.crt" "$WORK/dave_old.crt"
ck user revoke bob > /dev/null
new_user carol
ck user revoke carol > /dev/null
ck user renew dave --out "$WORK/o" --password-file "$WORK/dave.pw2" > /dev/null
ck user confirm dave > /dev/null
ck crl build > /dev/null
assert_eq "$(crl_number "$OUT")" 2 "second CRL, published"
cp "$OUT" "$WORK/crl2.pem"
for c in "$WORK/o/bob.crt" "$WORK/o/carol.crt" "$WORK/dave_old.crt" "$WORK/o/alice.crt"; do
  revoked_in "$c" "$OUT" || fail "CRL #2 revokes $c"
done

restore
expect_error "crl build over a store older than the published CRL" "certkeeper store reconcile --crl $OUT" -- ck crl build
cmp -s "$OUT" "$WORK/crl2.pem" || fail "the published CRL was left alone"
pass "restored from the older copy: crl build refused, points to store reconcile"

ck --json store reconcile > "$WORK/r.json" 2> "$WORK/r.err" || fail "reconcile: $(cat "$WORK/r.err")"
assert_eq "$(json '(d["published_number"], d["store_number_before"], d["changed"])' < "$WORK/r.json")" \
  "(2, 1, True)" "reconcile read CRL #2 over the store's #1"
# bob and dave's old certificate: valid in the copy, revoked now; carol and
# #2's canary: never seen by the copy; alice and #1's canary: known.
assert_eq "$(json '(d["revoked"], d["unknown_certificates"], d["already_revoked"], d["released"])' < "$WORK/r.json")" \
  "(2, 2, 2, 0)" "what reconcile took back"
assert_eq "$(db_sql "select count(*) from published_revocations")" 2 "the serials the store never saw are kept"
ck --json user show bob | grep -q '"revoked"' || fail "bob's certificate is revoked in the store: $(ck user show bob)"
pass "store reconcile took the published revocations back"

ck crl build > "$WORK/b.out" 2>&1 || fail "crl build after reconcile: $(cat "$WORK/b.out")"
assert_eq "$(crl_number "$OUT")" 3 "the next CRL numbers above the published one"
for c in "$WORK/o/bob.crt" "$WORK/o/carol.crt" "$WORK/dave_old.crt" "$WORK/o/alice.crt"; do
  revoked_in "$c" "$OUT" || fail "CRL #3 still revokes $c"
done
verify_out "$WORK/o/dave.crt" "$OUT" | grep -q ": OK" || fail "dave's new certificate is not revoked"
# Every serial of #2 (its canary too) is in #3.
serials() { openssl crl -in "$1" -noout -text | awk '/Serial Number:/ {print $3}' | sort; }
missing=$(comm -23 <(serials "$WORK/crl2.pem") <(serials "$OUT"))
[ -z "$missing" ] || fail "CRL #3 dropped serials #2 listed: $missing"
pass "the next CRL (#3) lists everything #2 published"

# Again with the same file: the store is past it, nothing changes.
before=$(db_dump)
ck store reconcile --crl "$WORK/crl2.pem" > "$WORK/again.out"
grep -q "the store is at #3 already: nothing to reconcile" "$WORK/again.out" || fail "again: $(cat "$WORK/again.out")"
[ "$(db_dump)" = "$before" ] || fail "a second reconcile changed the store"
pass "a CRL the store is past: nothing to reconcile"

# Bad input: another CA's CRL, something that is no CRL, no file.
"$CK_BIN" --home "$WORK/h2" --store "sqlite:$WORK/h2.db" ca init --name "Other CA" --no-passphrase > /dev/null 2>&1
"$CK_BIN" --home "$WORK/h2" --store "sqlite:$WORK/h2.db" crl build --out "$WORK/other.crl" > /dev/null
expect_error "reconcile with another CA's CRL" "is a CRL of another CA" -- ck store reconcile --crl "$WORK/other.crl"
expect_error "reconcile with a certificate" "is not a CRL" -- ck store reconcile --crl "$WORK/ca.pem"
head -c 100 "$WORK/crl2.pem" > "$WORK/cut.pem"
expect_error "reconcile with a truncated CRL" "cut.pem" -- ck store reconcile --crl "$WORK/cut.pem"
expect_error "reconcile with no file" "missing.crl" -- ck store reconcile --crl "$WORK/missing.crl"
