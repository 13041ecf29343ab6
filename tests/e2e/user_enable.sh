#!/usr/bin/env bash
# A revoked user does not come back by accident: after `user revoke` of the
# current certificate, `user renew` is refused and points at `user enable`,
# which re-admits them (audited).
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "Enable CA" > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
ck user create mallory --cn Mallory --email mallory@example.org --out "$WORK/b" \
  --password-file "$WORK/m1.pw" > /dev/null
ck user revoke mallory --reason affiliationChanged --ticket T5 > "$WORK/out"
grep -q "mallory is disabled" "$WORK/out" || fail "revoke says the user is disabled: $(cat "$WORK/out")"

expect_error "renew of a revoked user" "certkeeper user enable mallory" -- \
  ck user renew mallory --out "$WORK/b" --password-file "$WORK/m2.pw"
[ ! -e "$WORK/m2.pw" ] || fail "a password file was written"
ck crl build --out "$WORK/ca.crl" > /dev/null
verify_out "$WORK/b/mallory.crt" "$WORK/ca.crl" | grep -q "certificate revoked" \
  || fail "openssl sees the only certificate revoked"
assert_eq "$(ck --json user show mallory | json 'd["disabled_at"] is not None')" True "user show: disabled"
ck user list | grep -q "^mallory .* disabled (revoked " || fail "user list shows disabled: $(ck user list)"
pass "renew of a revoked user is refused"

expect_error "enable of an unknown user" "unknown user 'nobody'" -- ck user enable nobody
ck user enable mallory > "$WORK/out" || fail "user enable"
grep -q "mallory enabled" "$WORK/out" || fail "enable output: $(cat "$WORK/out")"
expect_error "enable twice" "is not revoked" -- ck user enable mallory
ck --json user show mallory | json '[h["action"] for h in d["history"]]' | grep -q "user.enable" \
  || fail "enable is audited"
ck user renew mallory --out "$WORK/b" --password-file "$WORK/m3.pw" > /dev/null || fail "renew after enable"
assert_eq "$(verify_crl "$WORK/b/mallory.crt" "$WORK/ca.crl")" "$WORK/b/mallory.crt: OK" \
  "the new certificate verifies"
pass "user enable re-admits the user, audited; renew works again"

# Revoking an older (superseded) certificate does not disable the user.
ck user create trent --cn Trent --email trent@example.org --out "$WORK/b" --password-file "$WORK/t1.pw" > /dev/null
old=$(serial_of "$WORK/b/trent.crt")
ck user renew trent --out "$WORK/b" --password-file "$WORK/t2.pw" > /dev/null
ck user revoke trent --serial "$old" --reason keyCompromise > /dev/null
ck user renew trent --out "$WORK/b" --password-file "$WORK/t3.pw" > /dev/null || fail "renew after revoking an old certificate"
pass "revoking a superseded certificate keeps the user"
