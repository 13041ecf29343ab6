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
