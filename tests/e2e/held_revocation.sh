#!/bin/bash
# The held-revocation scenario of issue 3, checked with openssl verify -crl_check:
# A, B, C renew; A then C confirm, B has not -> the CRL revokes A's and C's old
# certificates but not B's; B confirms -> the next CRL (higher number) does.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "E2E CA" 2>/dev/null >/dev/null
ck ca show --pem > "$WORK/ca.pem"
for u in alice bob carol; do
  ck user create $u --cn "$u" --email $u@example.org --out "$WORK/old" --password-file "$WORK/$u.pw" >/dev/null
done
for u in alice bob carol; do
  ck user renew $u --out "$WORK/new" --password-file "$WORK/$u.pw2" >/dev/null
done
[ "$(ck --json crl status | json 'len(d["held"])')" = 3 ] || fail "three held revocations expected"

ck user confirm alice >/dev/null
ck crl build --out "$WORK/crl1.pem" >/dev/null
ck user confirm carol >/dev/null
ck crl build --out "$WORK/crl2.pem" >/dev/null
assert_eq "$(verify_crl "$WORK/old/bob.crt" "$WORK/crl2.pem")" "$WORK/old/bob.crt: OK" "B's old certificate while B has not confirmed"
verify_crl "$WORK/old/alice.crt" "$WORK/crl2.pem" | grep -q "verification failed" || fail "A's old certificate must be revoked"
verify_out "$WORK/old/alice.crt" "$WORK/crl2.pem" | grep -q "certificate revoked" || fail "A revoked"
verify_out "$WORK/old/carol.crt" "$WORK/crl2.pem" | grep -q "certificate revoked" || fail "C revoked"
for u in alice bob carol; do
  assert_eq "$(verify_crl "$WORK/new/$u.crt" "$WORK/crl2.pem")" "$WORK/new/$u.crt: OK" "new certificate of $u"
done
openssl crl -in "$WORK/crl2.pem" -noout -text | grep -q "Superseded" || fail "reason superseded in the CRL"
pass "held revocation of B stays out while A and C are revoked"

ck user confirm bob >/dev/null
ck crl build --out "$WORK/crl3.pem" >/dev/null
n2=$(crl_number "$WORK/crl2.pem"); n3=$(crl_number "$WORK/crl3.pem")
[ "$n3" -gt "$n2" ] || fail "CRL number must grow ($n2 -> $n3)"
verify_out "$WORK/old/bob.crt" "$WORK/crl3.pem" | grep -q "certificate revoked" || fail "B revoked after confirming"
pass "B's old certificate is revoked once B confirmed (CRL number $n2 -> $n3)"

# Revocation for cause is in the very next CRL, with its reason.
ck user create dave --cn dave --email dave@example.org --out "$WORK/old" --password-file "$WORK/dave.pw" >/dev/null
ck user revoke dave --reason keyCompromise >/dev/null
ck crl build --out "$WORK/crl4.pem" >/dev/null
openssl crl -in "$WORK/crl4.pem" -noout -text | grep -q "Key Compromise" || fail "keyCompromise reason"
verify_out "$WORK/old/dave.crt" "$WORK/crl4.pem" | grep -q "certificate revoked" || fail "dave revoked"
pass "keyCompromise is in the very next CRL"

# A superseded certificate that expires while held is never in a CRL: move the
# clock with libfaketime instead of sleeping.
ck user create erin --cn erin --email erin@example.org --validity 10d --out "$WORK/old" --password-file "$WORK/erin.pw" >/dev/null
ck user renew erin --out "$WORK/new" --password-file "$WORK/erin.pw2" >/dev/null
erin_old=$(serial_of "$WORK/old/erin.crt")
FAKETIME=+11d LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
  "$CK_BIN" --home "$H" --json crl build --out "$WORK/crl5.pem" > "$WORK/crl5.json"
grep -q "$erin_old" "$WORK/crl5.json" || fail "erin's hold should be reported as dropped"
if openssl crl -in "$WORK/crl5.pem" -noout -text | grep -q "$erin_old"; then fail "expired superseded certificate listed"; fi
openssl crl -in "$WORK/crl5.pem" -CAfile "$WORK/ca.pem" -noout 2>&1 | grep -q "verify OK" || fail "CRL signature"
pass "a superseded certificate that expired while held is never listed"
