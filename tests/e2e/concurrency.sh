#!/bin/bash
# Two operators (or a timer and an operator) on one home: 8 `user create` and
# 4 `crl build` at once all succeed, with no duplicate serial and no repeated
# CRL number; every result checks out with openssl.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "E2E CA" 2>/dev/null >/dev/null
ck ca show --pem > "$WORK/ca.pem"
ck user create seed --cn Seed --email seed@example.org --out "$WORK/b" --password-file "$WORK/seed.pw" >/dev/null
ck user revoke seed --reason keyCompromise >/dev/null

pids=()
for i in 1 2 3 4 5 6 7 8; do
  ck user create "u$i" --cn "User $i" --email "u$i@example.org" --out "$WORK/b" \
    --password-file "$WORK/u$i.pw" > "$WORK/create$i.out" 2>&1 & pids+=($!)
done
for i in 1 2 3 4; do
  ck crl build --out "$WORK/crl$i.pem" > "$WORK/crl$i.out" 2>&1 & pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
[ "$failed" = 0 ] || { cat "$WORK"/*.out; fail "$failed concurrent command(s) failed"; }

serials=$(for i in 1 2 3 4 5 6 7 8; do serial_of "$WORK/b/u$i.crt"; done | sort)
assert_eq "$(echo "$serials" | uniq | wc -l)" 8 "distinct serials"
for i in 1 2 3 4 5 6 7 8; do
  assert_eq "$(openssl verify -CAfile "$WORK/ca.pem" "$WORK/b/u$i.crt")" "$WORK/b/u$i.crt: OK" "u$i chain"
  openssl pkcs12 -in "$WORK/b/u$i.p12" -passin "file:$WORK/u$i.pw" -noout 2>/dev/null || fail "u$i bundle opens"
done
assert_eq "$(db_sql 'select count(distinct serial) from certificates')" 9 "rows in the store"
numbers=$(for i in 1 2 3 4; do crl_number "$WORK/crl$i.pem"; echo; done | sort -n | tr '\n' ' ')
assert_eq "$numbers" "1 2 3 4 " "CRL numbers, one each"
for i in 1 2 3 4; do
  openssl crl -in "$WORK/crl$i.pem" -CAfile "$WORK/ca.pem" -noout 2>&1 | grep -q "verify OK" || fail "crl$i signature"
  openssl crl -in "$WORK/crl$i.pem" -noout -text | grep -q "$(serial_of "$WORK/b/seed.crt")" || fail "crl$i lists the revoked seed"
done
assert_eq "$(db_sql "select value from counters where name='crl_number'")" 4 "CRL counter"
pass "8 creates and 4 CRL builds at once: 8 distinct serials, CRL numbers 1-4"
