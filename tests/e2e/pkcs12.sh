#!/bin/bash
# PKCS#12 bundles open with plain openssl (no -legacy), use the promised
# algorithms, are 0600 even under umask 000, and no password is ever stored.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "E2E CA" 2>/dev/null >/dev/null
ck ca show --pem > "$WORK/ca.pem"
umask 000
out=$(ck --json user create alice --cn "Alice" --email alice@example.org --out "$WORK/b")
pw=$(echo "$out" | json 'd["password"]')
[ ${#pw} -ge 22 ] || fail "password of at least 22 characters"
for k in user serial not_before not_after p12 crt ticket; do
  echo "$out" | json "d['$k']" >/dev/null || fail "--json lacks $k"
done
assert_eq "$(stat -c %a "$WORK/b/alice.p12")" 600 "bundle mode under umask 000"
info=$(openssl pkcs12 -info -in "$WORK/b/alice.p12" -passin "pass:$pw" -nokeys -noout 2>&1)
echo "$info" | grep -q "MAC: sha256" || fail "SHA-256 MAC: $info"
echo "$info" | grep -q "salt length: 16" || fail "16-byte MAC salt"
echo "$info" | grep -q "PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256" || fail "PBES2/AES-256: $info"
openssl pkcs12 -in "$WORK/b/alice.p12" -passin "pass:$pw" -nodes 2>/dev/null | openssl x509 -noout -serial > "$WORK/p12.serial"
assert_eq "$(cut -d= -f2 "$WORK/p12.serial")" "$(serial_of "$WORK/b/alice.crt")" "bundle holds the issued certificate"
openssl pkcs12 -in "$WORK/b/alice.p12" -passin pass:wrong -noout 2>/dev/null && fail "wrong password must not open"
pass "modern bundle: PBES2/AES-256-CBC, SHA-256 MAC, 0600"

ck user create bob --cn "Bob" --email bob@example.org --out "$WORK/b" --p12 compat --password-file "$WORK/bob.pw" >/dev/null
assert_eq "$(stat -c %a "$WORK/bob.pw")" 600 "password file mode"
info=$(openssl pkcs12 -info -in "$WORK/b/bob.p12" -passin "file:$WORK/bob.pw" -nokeys -noout 2>&1)
echo "$info" | grep -q "pbeWithSHA1And3-KeyTripleDES-CBC" || fail "compat uses 3DES: $info"
echo "$info" | grep -q "MAC: sha1" || fail "compat uses a SHA-1 MAC"
pass "compat bundle opens without the legacy provider"

# Neither password is in the store (nor anywhere in its audit log).
dump=$(db_dump)
if echo "$dump" | grep -qF "$pw"; then fail "password stored"; fi
if echo "$dump" | grep -qF "$(cat "$WORK/bob.pw")"; then fail "password stored"; fi
pass "passwords are not stored"

# The certificate carries the promised extensions.
text=$(openssl x509 -in "$WORK/b/alice.crt" -noout -text)
for want in "TLS Web Client Authentication" "email:alice@example.org" "Digital Signature" \
            "Authority Key Identifier" "Subject Key Identifier" "CA:FALSE"; do
  echo "$text" | grep -q "$want" || fail "certificate lacks $want"
done
assert_eq "$(openssl verify -CAfile "$WORK/ca.pem" "$WORK/b/alice.crt")" "$WORK/b/alice.crt: OK" "chain"
serial=$(serial_of "$WORK/b/alice.crt")
[ ${#serial} -ge 32 ] || fail "128-bit serial expected, got $serial"
pass "client certificate profile"

# Signing a user's own CSR writes only the certificate.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=ignored \
  -keyout "$WORK/carol.key" -out "$WORK/carol.csr" 2>/dev/null
ck user create carol --cn "Carol" --email carol@example.org --out "$WORK/b" --csr "$WORK/carol.csr" >/dev/null
[ -e "$WORK/b/carol.p12" ] && fail "no bundle for a CSR"
assert_eq "$(openssl x509 -in "$WORK/b/carol.crt" -noout -pubkey | sha256sum)" \
  "$(openssl pkey -in "$WORK/carol.key" -pubout | sha256sum)" "CSR key is certified"
pass "--csr signs the user's own key"

# The CA key is encrypted at rest with a passphrase.
use_home "$WORK/home2"
CERTKEEPER_CA_PASSPHRASE=s3cret ck ca init --name "Encrypted CA" >/dev/null
db_sql "select key_pem from ca" | grep -q "BEGIN ENCRYPTED PRIVATE KEY" || fail "CA key encrypted"
db_sql "select key_pem from ca" > "$WORK/cakey.pem"
openssl pkcs8 -in "$WORK/cakey.pem" -passin pass:s3cret -topk8 -nocrypt >/dev/null 2>&1 || fail "CA key opens with the passphrase"
CERTKEEPER_CA_PASSPHRASE=s3cret ck user create dan --cn Dan --email dan@example.org --out "$WORK/b2" --password-file "$WORK/dan.pw" >/dev/null
pass "CA key encrypted at rest"
