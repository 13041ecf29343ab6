#!/bin/bash
# The CA key in a PKCS#11 token (softhsm2, token made here): `ca init
# --key-uri` generates it in the token and `ca import --key-uri` adopts one;
# certificates and CRLs it signs pass `openssl verify -crl_check`; the key is
# never extractable; a wrong PIN is one login attempt (counted through
# opensc's pkcs11-spy) and changes nothing; a missing token, a missing key,
# a PIN in the URI, a readable PIN file: one line, exit 1, nothing changed.
. "$(dirname "$0")/lib.sh" "$1"

for tool in softhsm2-util pkcs11-tool; do
  command -v "$tool" > /dev/null ||
    fail "$tool is missing: apt-get install softhsm2 opensc libengine-pkcs11-openssl"
done
MODULE=/usr/lib/softhsm/libsofthsm2.so
SPY=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so
[ -f "$MODULE" ] || fail "no $MODULE: apt-get install softhsm2"
[ -f "$SPY" ] || fail "no $SPY: apt-get install opensc"

mkdir -p "$WORK/tokens"
cat > "$WORK/softhsm2.conf" <<EOF
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
softhsm2-util --init-token --free --label ca-token --pin 1234 --so-pin 5678 > /dev/null
export CERTKEEPER_PKCS11_MODULE=$MODULE CERTKEEPER_PKCS11_PIN=1234
p11() { pkcs11-tool --module "$MODULE" --token-label ca-token "$@"; }

# ---- ca init --key-uri: the key made in the token --------------------------
ck ca init --name "Token CA" --key-uri 'pkcs11:token=ca-token;object=ca-key' > "$WORK/init.out"
grep -q "key:    in the token, pkcs11:token=ca-token;object=ca-key;id=" "$WORK/init.out" ||
  fail "ca init does not say where the key is: $(cat "$WORK/init.out")"
ck ca show --pem > "$WORK/ca.pem"
[ "$(db_sql "SELECT length(key_pem) FROM ca")" = 0 ] || fail "a key was stored beside the token's"
db_sql "SELECT key_uri FROM ca" | grep -q "^pkcs11:token=ca-token;object=ca-key;id=" ||
  fail "the store does not name the token key"
ck --json ca show | json 'd["key_uri"]' | grep -q "^pkcs11:token=ca-token" ||
  fail "ca show --json has no key_uri"
pass "ca init made the key in the token; only its URI is stored"

# The certificate's public key is the token's.
p11 --read-object --type pubkey --label ca-key -o "$WORK/token-pub.der" > /dev/null 2>&1
openssl pkey -pubin -inform DER -in "$WORK/token-pub.der" -outform PEM > "$WORK/token-pub.pem"
openssl x509 -in "$WORK/ca.pem" -noout -pubkey > "$WORK/cert-pub.pem"
cmp -s "$WORK/token-pub.pem" "$WORK/cert-pub.pem" || fail "the CA certificate's key is not the token's"
openssl verify -CAfile "$WORK/ca.pem" "$WORK/ca.pem" > /dev/null || fail "the CA certificate's self-signature"
pass "the CA certificate carries the token's public key and verifies"

# The private key is sensitive and never extractable.
p11 --login --pin 1234 --list-objects --type privkey > "$WORK/objects" 2>&1
grep -q "never extractable" "$WORK/objects" || fail "the key is extractable: $(cat "$WORK/objects")"
grep -q "sensitive" "$WORK/objects" || fail "the key is not sensitive: $(cat "$WORK/objects")"
if p11 --login --pin 1234 --read-object --type privkey --label ca-key -o "$WORK/stolen" > /dev/null 2>&1 &&
  [ -s "$WORK/stolen" ]; then
  fail "pkcs11-tool read the private key out of the token"
fi
pass "the CA key is sensitive and never extractable (pkcs11-tool cannot read it)"

# ---- issue, renew, revoke, CRL: all signed in the token --------------------
ck user create alice --cn Alice --email alice@example.test --out "$WORK/out1" > /dev/null
ck crl build --out "$WORK/crl1.pem" > /dev/null
assert_eq "$(verify_crl "$WORK/out1/alice.crt" "$WORK/crl1.pem")" "$WORK/out1/alice.crt: OK" \
  "a token-signed certificate with a token-signed CRL"
ck user renew alice --out "$WORK/out2" > /dev/null
ck user confirm alice > /dev/null
ck user create bob --cn Bob --email bob@example.test --out "$WORK/out1" > /dev/null
ck user revoke bob --reason keyCompromise > /dev/null
ck crl build --out "$WORK/crl2.pem" > /dev/null
assert_eq "$(verify_crl "$WORK/out2/alice.crt" "$WORK/crl2.pem")" "$WORK/out2/alice.crt: OK" \
  "the renewed certificate"
verify_out "$WORK/out1/alice.crt" "$WORK/crl2.pem" | grep -q "certificate revoked" ||
  fail "the superseded certificate is not revoked once confirmed"
verify_out "$WORK/out1/bob.crt" "$WORK/crl2.pem" | grep -q "certificate revoked" ||
  fail "bob's revoked certificate passes"
openssl crl -in "$WORK/crl2.pem" -CAfile "$WORK/ca.pem" -noout 2>&1 | grep -q "verify OK" ||
  fail "the CRL's signature"
pass "issue, renew, revoke and CRLs signed in the token pass openssl verify -crl_check"

# ---- a wrong PIN: exactly one login attempt, nothing issued ----------------
SPY_LOG="$WORK/spy.log"
spy() {
  rm -f "$SPY_LOG"
  PKCS11SPY=$MODULE PKCS11SPY_OUTPUT=$SPY_LOG CERTKEEPER_PKCS11_MODULE=$SPY "$@"
}
logins() { grep -c "C_Login" "$SPY_LOG" || true; }
before=$(db_sql "SELECT count(*) FROM certificates")
expect_error "wrong PIN" "wrong PIN for PKCS#11 token 'ca-token'" -- \
  spy env CERTKEEPER_PKCS11_PIN=9999 "$CK_BIN" --home "$H" user create carol --cn Carol \
  --email carol@example.test --out "$WORK/out3"
assert_eq "$(logins)" 1 "C_Login calls for a wrong PIN"
[ ! -e "$WORK/out3/carol.p12" ] || fail "a bundle was written with a wrong PIN"
expect_error "wrong PIN, CRL" "wrong PIN" -- \
  spy env CERTKEEPER_PKCS11_PIN=9999 "$CK_BIN" --home "$H" crl build --out "$WORK/crl-x.pem"
assert_eq "$(logins)" 1 "C_Login calls for a wrong PIN (crl build)"
[ ! -e "$WORK/crl-x.pem" ] || fail "a CRL was written with a wrong PIN"
spy "$CK_BIN" --home "$H" user create carol --cn Carol --email carol@example.test \
  --out "$WORK/out3" > /dev/null
assert_eq "$(logins)" 1 "C_Login calls for a command that signs"
assert_eq "$(db_sql "SELECT count(*) FROM certificates")" $((before + 1)) "certificates after carol"
pass "a wrong PIN is tried once and issues nothing; the right one logs in once"

# ---- bad settings: one line, exit 1, nothing changed -----------------------
expect_error "no PIN" "CERTKEEPER_PKCS11_PIN" -- \
  env -u CERTKEEPER_PKCS11_PIN "$CK_BIN" --home "$H" user renew alice --out "$WORK/out4"
expect_error "no module" "[pkcs11] module" -- \
  env -u CERTKEEPER_PKCS11_MODULE "$CK_BIN" --home "$H" crl build --out "$WORK/crl-x.pem"
expect_error "module not PKCS#11" "cannot be loaded" -- \
  env CERTKEEPER_PKCS11_MODULE="$WORK/nothing.so" "$CK_BIN" --home "$H" crl build --out "$WORK/crl-x.pem"
mkdir -p "$WORK/empty-tokens"
sed "s|$WORK/tokens|$WORK/empty-tokens|" "$SOFTHSM2_CONF" > "$WORK/empty.conf"
expect_error "token missing" "no token labelled 'ca-token'" -- \
  env SOFTHSM2_CONF="$WORK/empty.conf" "$CK_BIN" --home "$H" crl build --out "$WORK/crl-x.pem"
printf '1234\n' > "$WORK/pin"
chmod 644 "$WORK/pin"
expect_error "readable PIN file" "chmod 600" -- \
  env -u CERTKEEPER_PKCS11_PIN "$CK_BIN" --home "$H" \
  --config <(printf '[pkcs11]\nmodule = "%s"\npin_file = "%s"\n' "$MODULE" "$WORK/pin") crl status
chmod 600 "$WORK/pin"
env -u CERTKEEPER_PKCS11_PIN -u CERTKEEPER_PKCS11_MODULE "$CK_BIN" --home "$H" \
  --config <(printf '[pkcs11]\nmodule = "%s"\npin_file = "%s"\n' "$MODULE" "$WORK/pin") \
  crl build --out "$WORK/crl3.pem" > /dev/null
assert_eq "$(verify_crl "$WORK/out2/alice.crt" "$WORK/crl3.pem")" "$WORK/out2/alice.crt: OK" \
  "a CRL signed with the PIN from [pkcs11] pin_file (its newline not part of it)"
pass "[pkcs11] module and pin_file (0600, trailing newline dropped) work"

# A command certkeeper runs (here the CRL publisher) never sees the PIN.
env "$CK_BIN" --home "$H" --config <(printf '[crl]\npublish_command = ["sh", "-c", "env > %s"]\n' \
  "$WORK/child.env") crl build --out "$WORK/crl4.pem" > /dev/null
[ -s "$WORK/child.env" ] || fail "the publish command did not run"
grep -q "CERTKEEPER_PKCS11_PIN" "$WORK/child.env" && fail "the PIN reached a child process"
pass "the PIN is withheld from the commands certkeeper runs"

# ---- ca init refusals --------------------------------------------------------
# Other homes, each with a store of its own (on PostgreSQL a database: use_home).
use_home "$WORK/home2"
H2="$H"
expect_error "PIN in the URI" "carries a PIN" -- \
  "$CK_BIN" --home "$H2" ca init --name X --key-uri 'pkcs11:token=ca-token;object=k2;pin-value=1234'
grep -q 1234 "$WORK/err" && fail "the error repeats the PIN"
expect_error "module in the URI" "query attributes" -- \
  "$CK_BIN" --home "$H2" ca init --name X --key-uri 'pkcs11:token=ca-token;object=k2?module-path=/x.so'
expect_error "object taken" "holds a key 'ca-key' already" -- \
  "$CK_BIN" --home "$H2" ca init --name X --key-uri 'pkcs11:token=ca-token;object=ca-key'
expect_error "ed25519 in a token" "ed25519" -- \
  "$CK_BIN" --home "$H2" ca init --name X --key-type ed25519 --key-uri 'pkcs11:token=ca-token;object=k3'
[ ! -e "$H2/certkeeper.db" ] || pg_store || fail "a refused ca init left a store"
pass "ca init --key-uri refuses a PIN or module in the URI, a taken object, ed25519"

# ---- ca import --key-uri: a key and certificate made by other tools --------
softhsm2-util --init-token --free --label old-ca --pin 4321 --so-pin 5678 > /dev/null
pkcs11-tool --module "$MODULE" --token-label old-ca --login --pin 4321 \
  --keypairgen --key-type rsa:2048 --label root --id 07 > /dev/null 2>&1
cat > "$WORK/engine.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
MODULE_PATH = $MODULE
PIN = 4321
init = 0
EOF
OPENSSL_CONF="$WORK/engine.cnf" openssl req -new -x509 -engine pkcs11 -keyform engine \
  -key "pkcs11:token=old-ca;object=root;type=private" -subj "/CN=Old Token CA" -days 365 \
  -sha256 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -out "$WORK/old-ca.pem" 2> "$WORK/req.err" || fail "openssl req with the engine: $(cat "$WORK/req.err")"
use_home "$WORK/home3"
H3="$H"
expect_error "import: no such key" "holds no private key 'nope'" -- \
  spy env CERTKEEPER_PKCS11_PIN=4321 "$CK_BIN" --home "$H3" ca import --cert "$WORK/old-ca.pem" \
  --key-uri 'pkcs11:token=old-ca;object=nope'
assert_eq "$(logins)" 1 "C_Login calls when the key is missing"
expect_error "import: a key that is not the certificate's" "is not the CA certificate's key" -- \
  env CERTKEEPER_PKCS11_PIN=4321 "$CK_BIN" --home "$H3" ca import --cert "$WORK/ca.pem" \
  --key-uri 'pkcs11:token=old-ca;object=root'
CERTKEEPER_PKCS11_PIN=4321 "$CK_BIN" --home "$H3" ca import --cert "$WORK/old-ca.pem" \
  --key-uri 'pkcs11:token=old-ca;object=root' > /dev/null
CERTKEEPER_PKCS11_PIN=4321 "$CK_BIN" --home "$H3" user create dave --cn Dave \
  --email dave@example.test --out "$WORK/out5" > /dev/null
CERTKEEPER_PKCS11_PIN=4321 "$CK_BIN" --home "$H3" crl build --out "$WORK/old.crl" > /dev/null
openssl verify -crl_check -CAfile "$WORK/old-ca.pem" -CRLfile "$WORK/old.crl" "$WORK/out5/dave.crt" \
  > "$WORK/v.out" 2>&1 || fail "dave under the imported token CA: $(cat "$WORK/v.out")"
openssl x509 -in "$WORK/out5/dave.crt" -noout -text | grep -q "sha256WithRSAEncryption" ||
  fail "dave's certificate is not signed with RSA-SHA256"
pass "ca import --key-uri adopts an RSA key made by pkcs11-tool; what it signs verifies"

# A key that may only sign: the import works and says `crl check` will not.
pkcs11-tool --module "$MODULE" --token-label old-ca --login --pin 4321 --keypairgen \
  --key-type EC:prime256v1 --usage-sign --label signonly --id 08 > /dev/null 2>&1
sed -i 's/^PIN = .*/PIN = 4321/' "$WORK/engine.cnf"
OPENSSL_CONF="$WORK/engine.cnf" openssl req -new -x509 -engine pkcs11 -keyform engine \
  -key "pkcs11:token=old-ca;object=signonly;type=private" -subj "/CN=Sign Only CA" -days 365 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -out "$WORK/signonly.pem" 2> "$WORK/req.err" || fail "openssl req: $(cat "$WORK/req.err")"
use_home "$WORK/home4"
H4="$H"
CERTKEEPER_PKCS11_PIN=4321 "$CK_BIN" --home "$H4" ca import --cert "$WORK/signonly.pem" \
  --key-uri 'pkcs11:token=old-ca;object=signonly' > /dev/null 2> "$WORK/import.err"
grep -q "cannot open CRL canary keys" "$WORK/import.err" ||
  fail "no warning for a key that cannot open canaries: $(cat "$WORK/import.err")"
pass "ca import --key-uri warns when the key cannot open CRL canary keys"
