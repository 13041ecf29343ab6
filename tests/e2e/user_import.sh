#!/bin/bash
# user import: many users from a CSV, one bundle each, all checked with openssl;
# a bad row is named with its line number and nothing is imported.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "E2E CA" 2>/dev/null >/dev/null
ck ca show --pem > "$WORK/ca.pem"
{
  echo "user,cn,email,org,country"
  for i in $(seq 1 20); do echo "u$i,\"User $i, Example\",u$i@example.org,Example,DE"; done
} > "$WORK/users.csv"
ck --json user import "$WORK/users.csv" --out "$WORK/b" > "$WORK/import.json"
assert_eq "$(json 'len(d)' < "$WORK/import.json")" 20 "imported users"
for i in $(seq 1 20); do
  pw=$(json "d[$((i - 1))]['password']" < "$WORK/import.json")
  openssl pkcs12 -in "$WORK/b/u$i.p12" -passin "pass:$pw" -nodes 2>/dev/null | openssl verify -CAfile "$WORK/ca.pem" >/dev/null \
    || fail "u$i bundle"
  assert_eq "$(stat -c %a "$WORK/b/u$i.p12")" 600 "u$i bundle mode"
done
openssl x509 -in "$WORK/b/u7.crt" -noout -subject | grep -q "CN = \"User 7, Example\"" || fail "quoted CN"
pass "20 users imported, every bundle opens and verifies"

printf 'user,cn,email\nv1,V1,v1@example.org\nv2,V2,broken\n' > "$WORK/bad.csv"
before=$(db_dump)
rc=0; ck user import "$WORK/bad.csv" --out "$WORK/b" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "bad CSV exit code"
grep -q "^certkeeper: error: '$WORK/bad.csv' line 3: invalid email 'broken'" "$WORK/err" || fail "message: $(cat "$WORK/err")"
assert_eq "$(db_dump)" "$before" "store unchanged after a bad CSV"
pass "bad row named with its line, nothing imported"

# Every field of every row is checked before anything is issued, and the bad
# row is named by its line: invalid UTF-8 (row 6 of 10, on line 7), a field
# beyond RFC 5280's bound (the encoder would refuse it only while signing), a
# folder where a bundle is to go.
bad_import() {  # NAME NEEDLE ROW_FUNCTION
  { echo "user,cn,email,org"
    for i in $(seq 1 10); do "$3" "$i"; done; } > "$WORK/$1.csv"
  expect_error "$1" "$2" -- ck user import "$WORK/$1.csv" --out "$WORK/c" --batch 2
  [ -z "$(ls -A "$WORK/c" 2>/dev/null)" ] || fail "$1: files written: $(ls "$WORK/c")"
}
utf8_row() { if [ "$1" = 6 ]; then printf 'w%s,Bad \xc3\x28 Name,w%s@example.org,Ex\n' "$1" "$1"; else echo "w$1,W $1,w$1@example.org,Ex"; fi; }
bad_import utf8 "'$WORK/utf8.csv' line 7: invalid cn 'Bad \\xc3( Name': not valid UTF-8" utf8_row
long_org() { if [ "$1" = 9 ]; then echo "w$1,W,w$1@example.org,$(printf 'O%.0s' $(seq 1 65))"; else echo "w$1,W $1,w$1@example.org,Ex"; fi; }
bad_import long_org "'$WORK/long_org.csv' line 10: invalid org" long_org
mkdir -p "$WORK/c/w4.p12"
folder_row() { echo "w$1,W $1,w$1@example.org,Ex"; }
bad_import_folder() {
  { echo "user,cn,email,org"; for i in $(seq 1 10); do folder_row "$i"; done; } > "$WORK/folder.csv"
  expect_error folder "'$WORK/folder.csv' line 5: '$WORK/c/w4.p12' is a folder" -- \
    ck user import "$WORK/folder.csv" --out "$WORK/c" --batch 2
  assert_eq "$(ls -A "$WORK/c")" "w4.p12" "folder: no bundle written"
}
bad_import_folder
rmdir "$WORK/c/w4.p12"
# A CN of 64 characters that take two bytes each is within the bound.
cn64=$(printf 'Ä%.0s' $(seq 1 64))
printf 'user,cn,email\numlaut,%s,umlaut@example.org\n' "$cn64" > "$WORK/umlaut.csv"
ck user import "$WORK/umlaut.csv" --out "$WORK/c" --password-file "$WORK/pw" > "$WORK/out"
openssl pkcs12 -in "$WORK/c/umlaut.p12" -passin "file:$WORK/pw/umlaut.pw" -noout 2>/dev/null || fail "umlaut bundle"
assert_eq "$(stat -c %a "$WORK/pw/umlaut.pw")" 600 "password file mode"
grep -q "umlaut.*(in $WORK/pw/umlaut.pw)" "$WORK/out" || fail "output names the password file: $(cat "$WORK/out")"
pass "rows refused by line before anything is issued; 64 two-byte characters accepted; --password-file folder"

# Killed part-way (kill -9 at a fault point of a test build), 7 users in
# batches of 3: every password handed out is already on stdout; what was
# issued and not handed over is in `user show` with the command to reissue.
{ echo "user,cn,email"; for i in $(seq 1 7); do echo "k$i,K $i,k$i@example.org"; done; } > "$WORK/k.csv"
crash_import() {  # POINT: kill the import at POINT, in its first batch
  local rc=0
  rm -rf "$WORK/k"; mkdir -p "$WORK/k"
  CERTKEEPER_FAULT="$1" ck user import "$WORK/k.csv" --out "$WORK/k" --batch 3 > "$WORK/k.out" 2>/dev/null || rc=$?
  assert_eq "$rc" 137 "$1: killed (is this a test build?)"
  ck user show k4 >/dev/null 2>&1 && fail "$1: the second batch must not be issued"
  ! ls -a "$WORK/k" | grep -q '\.tmp-' || fail "$1: temporary file left"
}
passwords_shown() {  # every batch-1 password on stdout opens its bundle
  for u in k1 k2 k3; do
    pw=$(awk -v u="$u" '$1 == u { print $3 }' "$WORK/k.out")
    [ -n "$pw" ] || fail "$1: no password for $u on stdout: $(cat "$WORK/k.out")"
    openssl pkcs12 -in "$WORK/k/$u.p12" -passin "pass:$pw" -nodes 2>/dev/null \
      | openssl verify -CAfile "$WORK/ca.pem" >/dev/null || fail "$1: $u bundle with the shown password"
  done
}
FRESH=0
fresh_home() {  # a new home and CA (on PostgreSQL, a new database: use_home)
  FRESH=$((FRESH + 1))
  use_home "$WORK/fresh$FRESH"
  ck ca init --name "E2E CA" >/dev/null 2>&1
  ck ca show --pem > "$WORK/ca.pem"
}

fresh_home
crash_import import.after_batch
passwords_shown import.after_batch
for u in k1 k2 k3; do
  assert_eq "$(ck --json user show "$u" | json 'd["current"]["status"]')" active "after_batch: $u delivered"
done
# The rest of the file imports once the done rows are dropped.
{ echo "user,cn,email"; for i in 4 5 6 7; do echo "k$i,K $i,k$i@example.org"; done; } > "$WORK/k-rest.csv"
ck user import "$WORK/k-rest.csv" --out "$WORK/k" --batch 3 >/dev/null
pass "import.after_batch: batch 1 handed over (passwords on stdout open the bundles), the rest imports"

fresh_home
crash_import import.before_mark
passwords_shown import.before_mark
for u in k1 k2 k3; do
  show=$(ck --json user show "$u")
  assert_eq "$(echo "$show" | json 'd["current"]["status"]')" pending "before_mark: $u not recorded as delivered"
  echo "$show" | json 'd["notes"][0]' | grep -q "certkeeper user renew $u" || fail "before_mark: $u note"
done
ck user show k1 | grep -q "^note: .*never recorded as handed over.*certkeeper user renew k1" || fail "user show text"
pass "import.before_mark: passwords on stdout open the bundles; user show offers the reissue"

fresh_home
crash_import import.after_commit
[ -s "$WORK/k.out" ] && fail "after_commit: nothing was handed over, nothing may be shown"
for u in k1 k2 k3; do
  ck --json user show "$u" | json 'd["notes"][0]' | grep -q "certkeeper user renew $u" || fail "after_commit: $u note"
done
lost=$(ck --json user show k2 | json 'd["current"]["serial"]')
ck --json user renew k2 --out "$WORK/k" --password-file "$WORK/k2.pw" > "$WORK/k2.json"
assert_eq "$(json 'd["superseded_revocation"]' < "$WORK/k2.json")" released "after_commit: the undelivered one is revoked at once"
openssl pkcs12 -in "$WORK/k/k2.p12" -passin "file:$WORK/k2.pw" -noout 2>/dev/null || fail "after_commit: reissued bundle"
ck crl build --out "$WORK/k.crl" >/dev/null
openssl crl -in "$WORK/k.crl" -noout -text | grep -q "$lost" || fail "after_commit: undelivered certificate in the CRL"
pass "import.after_commit: issued batch listed by user show, reissued by renew"
