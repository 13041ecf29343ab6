#!/bin/bash
# The README's quick start ends in scripts/demo.sh: it must run to the end
# (under Debian's /bin/sh too: its shebang names bash), and its CRL must hold
# exactly the one released revocation, read back by openssl.
. "$(dirname "$0")/lib.sh" "$1"
TMPDIR="$WORK" "$(dirname "$0")/../../scripts/demo.sh" "$CK_BIN" > "$WORK/demo.out" 2>&1 \
  || fail "scripts/demo.sh failed: $(tail -5 "$WORK/demo.out")"
DEMO_HOME=$(sed -n 's/^demo home: \(.*\) (delete it when done)$/\1/p' "$WORK/demo.out")
[ -d "$DEMO_HOME" ] || fail "demo home not named: $(tail -2 "$WORK/demo.out")"
assert_eq "$(crl_user_serials "$DEMO_HOME/ca.crl" "$DEMO_HOME" | wc -l)" 1 \
  "revoked entries in the demo's last CRL, canaries aside"
assert_eq "$(openssl crl -in "$DEMO_HOME/ca.crl" -noout -text | grep -c "Serial Number")" \
  "$(( 1 + $(sqlite3 "$DEMO_HOME/certkeeper.db" "SELECT count(*) FROM crl_canaries WHERE final_crl IS NULL") ))" \
  "the demo's CRL: the revocation and every canary not yet expired"
assert_eq "$(sqlite3 "$DEMO_HOME/certkeeper.db" "SELECT key_encrypted FROM ca")" 1 "the demo's CA key is encrypted"
sqlite3 "$DEMO_HOME/certkeeper.db" "SELECT key_pem FROM ca" | grep -q "BEGIN ENCRYPTED PRIVATE KEY" \
  || fail "the demo's CA key is not an encrypted PKCS#8 key"
assert_eq "$(stat -c %a "$DEMO_HOME/ca.pass")" 600 "the demo's passphrase file mode"
pass "quick start demo runs to the end; its CA key is encrypted; its CRL holds the released revocation"
