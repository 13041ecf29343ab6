#!/usr/bin/env bash
# cert import refuses what it should: the newest stored certificate again
# ("already stored", nothing changed), and a certificate older than the
# newest stored one unless --allow-older.
. "$(dirname "$0")/lib.sh" "$1"

# A small CA of our own with openssl: two leaves for one name, the second
# expiring later than the first.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=Import Root" \
  -keyout "$WORK/root.key" -out "$WORK/root.pem" 2> /dev/null
leaf() {  # leaf NAME DAYS
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=www.example.test" \
    -keyout "$WORK/$1.key" -out "$WORK/$1.csr" 2> /dev/null
  printf 'subjectAltName=DNS:www.example.test\nbasicConstraints=CA:FALSE\n' > "$WORK/$1.ext"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/root.pem" -CAkey "$WORK/root.key" \
    -CAcreateserial -days "$2" -extfile "$WORK/$1.ext" -out "$WORK/$1.pem" 2> /dev/null
}
leaf short 30
leaf long 90
versions() { db_sql "select count(*) from server_certs where name='www.example.test'"; }

ck cert import --cert "$WORK/long.pem" --key "$WORK/long.key" --chain "$WORK/root.pem" > /dev/null 2>&1 \
  || fail "first import"
assert_eq "$(versions)" 1 "first import stores version 1"

expect_error "the newest version again" "already stored as 'www.example.test' version 1" -- \
  ck cert import --cert "$WORK/long.pem" --key "$WORK/long.key" --chain "$WORK/root.pem"
grep -qF "$WORK/long.pem" "$WORK/err" || fail "names the file: $(cat "$WORK/err")"
assert_eq "$(versions)" 1 "no version added"

expect_error "an older certificate" "refusing to replace it with an older certificate" -- \
  ck cert import --cert "$WORK/short.pem" --key "$WORK/short.key" --chain "$WORK/root.pem"
grep -qF -- "--allow-older" "$WORK/err" || fail "points at --allow-older: $(cat "$WORK/err")"
newest=$(ck --json cert list | json '[c["sha256"] for c in d if c.get("kind") == "server"][0]')
assert_eq "$newest" "$(openssl x509 -in "$WORK/long.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)" \
  "the newest stored certificate is still the longer one"

ck cert import --cert "$WORK/short.pem" --key "$WORK/short.key" --chain "$WORK/root.pem" --allow-older \
  > /dev/null 2>&1 || fail "--allow-older"
assert_eq "$(versions)" 2 "--allow-older stores the older certificate as a new version"
expect_error "the newest again, even with --allow-older" "already stored as 'www.example.test' version 2" -- \
  ck cert import --cert "$WORK/short.pem" --key "$WORK/short.key" --chain "$WORK/root.pem" --allow-older
pass "cert import refuses the newest again and an older one without --allow-older"

# The same leaf with the chain it lacked is a new version (how a broken chain
# gets fixed), and then refused again like any newest version.
ck cert import --cert "$WORK/long.pem" --key "$WORK/long.key" --name fixme > /dev/null 2>&1 \
  || fail "import without the chain"
ck cert import --cert "$WORK/long.pem" --key "$WORK/long.key" --chain "$WORK/root.pem" --name fixme \
  > "$WORK/out" 2>&1 || fail "the same leaf with its chain: $(cat "$WORK/out")"
grep -q "imported 'fixme' (version 2, 1 intermediate certificate)" "$WORK/out" || fail "chain fix: $(cat "$WORK/out")"
expect_error "the same leaf and chain again" "already stored as 'fixme' version 2" -- \
  ck cert import --cert "$WORK/long.pem" --key "$WORK/long.key" --chain "$WORK/root.pem" --name fixme
pass "the same leaf with another chain is a new version"

# Bad input on a new home creates nothing (no store, no home).
rc=0; "$CK_BIN" --home "$WORK/fresh" cert import --cert "$WORK/missing.pem" --key "$WORK/long.key" \
  2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "missing file on a new home: exit code"
[ ! -e "$WORK/fresh" ] || fail "a failed import left $(find "$WORK/fresh")"
pass "a failed first import leaves no home and no store"
