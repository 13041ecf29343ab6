#!/bin/bash
# Keys at rest: the CA key and server certificate keys are encrypted with
# PBKDF2-HMAC-SHA256 at 600,000 iterations (read back with openssl asn1parse),
# and a key from an earlier version (OpenSSL's default 2,048) is re-encrypted
# on its next successful unlock, in the store, with an audit entry; a failed
# unlock changes nothing.
. "$(dirname "$0")/lib.sh" "$1"
export CERTKEEPER_CA_PASSPHRASE="a passphrase a person chose"

ca_key() { db_sql "SELECT key_pem FROM ca"; }
server_key() { db_sql "SELECT key_pem FROM server_certs WHERE name = '$1'"; }

# --- the CA key
ck ca init --name "E2E CA" > /dev/null 2>&1
assert_eq "$(ca_key | key_iterations)" 600000 "ca init: PBKDF2 iterations of the CA key"
ck ca show --pem > "$WORK/ca.pem"
pass "ca init: the CA key is stored with 600,000 PBKDF2 iterations"

store_key_as_before ca "id = 1"
assert_eq "$(ca_key | key_iterations)" 2048 "the CA key as an earlier version stored it"
# A wrong passphrase opens nothing and re-encrypts nothing.
expect_error "wrong passphrase" "wrong CA passphrase" -- env CERTKEEPER_CA_PASSPHRASE=wrong "$CK_BIN" --home "$H" user create bob --cn Bob --email bob@example.org --out "$WORK/b"
assert_eq "$(ca_key | key_iterations)" 2048 "after a failed unlock"
# The next unlock (a user create) re-encrypts it: the same key, 600,000 iterations.
ck user create alice --cn Alice --email alice@example.org --out "$WORK/b" --password-file "$WORK/a.pw" > /dev/null
assert_eq "$(ca_key | key_iterations)" 600000 "the CA key after its next unlock"
ca_key | openssl pkey -passin env:CERTKEEPER_CA_PASSPHRASE -pubout > "$WORK/key.pub"
openssl x509 -in "$WORK/ca.pem" -noout -pubkey > "$WORK/cert.pub"
cmp -s "$WORK/key.pub" "$WORK/cert.pub" || fail "the re-encrypted key is not the CA's key"
openssl verify -CAfile "$WORK/ca.pem" "$WORK/b/alice.crt" > /dev/null || fail "alice's certificate"
assert_eq "$(db_sql "SELECT detail FROM audit WHERE action = 'ca.key.reencrypt'")" \
  "PBKDF2 iterations 2048 -> 600000" "audit entry"
# Once: the next unlock leaves it as it is.
ck user create carol --cn Carol --email carol@example.org --out "$WORK/b" --password-file "$WORK/c.pw" > /dev/null
assert_eq "$(db_sql "SELECT count(*) FROM audit WHERE action = 'ca.key.reencrypt'")" 1 "re-encrypted once"
pass "an old CA key (2,048 iterations) is re-encrypted on its next unlock, once, with an audit entry"

# --- server certificate keys
test_pki
leaf site "DNS:site.example.test"
ck cert import --cert "$WORK/site.pem" --key "$WORK/site.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
assert_eq "$(server_key site | key_iterations)" 600000 "cert import: PBKDF2 iterations of the key"
pass "cert import: the server key is stored with 600,000 PBKDF2 iterations"
