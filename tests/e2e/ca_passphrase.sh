#!/bin/bash
# The CA key is encrypted unless the operator says otherwise: `ca init` and
# `ca import` take a configured passphrase, else ask on the terminal twice
# (no echo), else refuse without --no-passphrase. A command on a terminal
# asks for an encrypted key's passphrase. `ca passphrase change` moves every
# stored key to a new passphrase in one transaction. Terminals are real
# pseudo-terminals (tty_run.py); keys are read back with openssl.
. "$(dirname "$0")/lib.sh" "$1"
TTY="$(dirname "$0")/tty_run.py"
P1="first passphrase, typed"
P2="second passphrase, from a file"
ca_key() { db_sql "SELECT key_pem FROM ca"; }
flag() { db_sql "SELECT key_encrypted FROM ca" | sed 's/^t$/1/; s/^f$/0/'; }

# --- no passphrase, no terminal: refused, nothing created
expect_error "ca init without passphrase or terminal" "pass --no-passphrase" -- \
  "$CK_BIN" --home "$H" ca init --name "E2E CA" < /dev/null
[ ! -e "$H" ] || pg_store || fail "a refused ca init left $(find "$H")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=Old CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$WORK/old-ca.key" -out "$WORK/old-ca.pem" 2> /dev/null
expect_error "ca import without passphrase or terminal" "no terminal to ask" -- \
  "$CK_BIN" --home "$H" ca import --cert "$WORK/old-ca.pem" --key "$WORK/old-ca.key"
expect_error "--no-passphrase beside a configured one" "--no-passphrase, but a CA passphrase is configured (CERTKEEPER_CA_PASSPHRASE)" -- \
  env CERTKEEPER_CA_PASSPHRASE=x "$CK_BIN" --home "$H" ca init --name "E2E CA" --no-passphrase
pass "no passphrase and no terminal: ca init and ca import refuse and create nothing"

# --- on a terminal: asked twice, echo off
rc=0; "$TTY" "$WORK/tty.log" "$P1" "not the same" -- "$CK_BIN" --home "$H" ca init --name "E2E CA" \
  > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "two different passphrases: exit code"
grep -q "the two passphrases differ" "$WORK/err" || fail "mismatch message: $(cat "$WORK/err")"
[ ! -e "$H/certkeeper.db" ] || pg_store || fail "a refused ca init left a store"
rc=0; "$TTY" "$WORK/tty.log" "" -- "$CK_BIN" --home "$H" ca init --name "E2E CA" > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "an empty passphrase: exit code"
grep -q "empty passphrase" "$WORK/err" || fail "empty message: $(cat "$WORK/err")"
"$TTY" "$WORK/tty.log" "$P1" "$P1" -- "$CK_BIN" --home "$H" ca init --name "E2E CA" > "$WORK/out" 2> "$WORK/err" \
  || fail "ca init on a terminal: $(cat "$WORK/err")"
grep -q "New passphrase for the CA key: " "$WORK/tty.log" || fail "no prompt: $(cat -A "$WORK/tty.log")"
grep -q "Type it again: " "$WORK/tty.log" || fail "no second prompt: $(cat -A "$WORK/tty.log")"
grep -qF "$P1" "$WORK/tty.log" "$WORK/out" "$WORK/err" && fail "the passphrase was echoed or printed"
grep -q "commands on a terminal" "$WORK/out" || fail "no word on where later commands find it: $(cat "$WORK/out")"
assert_eq "$(flag)" 1 "key_encrypted after ca init on a terminal"
ca_key | openssl pkey -passin "pass:$P1" -noout || fail "the stored CA key does not open with the typed passphrase"
ca_key | openssl pkey -passin pass:wrong -noout 2> /dev/null && fail "the CA key opens with any passphrase"
ck ca show --pem > "$WORK/ca.pem"
pass "ca init on a terminal: asked twice with echo off; a mismatch or an empty one refused; the key opens with it"

# --- later commands: asked on a terminal; Enter goes on without; no terminal: the key is encrypted
"$TTY" "$WORK/tty.log" "$P1" -- "$CK_BIN" --home "$H" user create alice --cn Alice --email alice@example.org \
  --out "$WORK/b" --password-file "$WORK/a.pw" > "$WORK/out" 2> "$WORK/err" || fail "user create on a terminal: $(cat "$WORK/err")"
grep -q "Passphrase of the CA key" "$WORK/tty.log" || fail "not asked: $(cat -A "$WORK/tty.log")"
openssl verify -CAfile "$WORK/ca.pem" "$WORK/b/alice.crt" > /dev/null || fail "alice's certificate"
"$TTY" "$WORK/tty.log" "" -- "$CK_BIN" --home "$H" user list > "$WORK/out" 2> "$WORK/err" || fail "user list after Enter"
grep -q "^alice" "$WORK/out" || fail "user list: $(cat "$WORK/out")"
expect_error "user create without passphrase or terminal" "the CA key is encrypted" -- \
  ck user create bob --cn Bob --email bob@example.org --out "$WORK/b" --password-file "$WORK/b.pw"
rc=0; "$TTY" "$WORK/tty.log" "wrong" "wrong" "wrong" -- "$CK_BIN" --home "$H" user create bob --cn Bob --email bob@example.org \
  --out "$WORK/b" --password-file "$WORK/b.pw" > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "a wrong passphrase typed three times"
grep -q "wrong CA passphrase (three times)" "$WORK/err" || fail "wrong passphrase message: $(cat "$WORK/err")"
"$TTY" "$WORK/tty.log" "a typo" "$P1" -- "$CK_BIN" --home "$H" user create carol --cn Carol --email carol@example.org \
  --out "$WORK/b" --password-file "$WORK/c.pw" > "$WORK/out" 2> "$WORK/err" || fail "a typo, then the passphrase: $(cat "$WORK/err")"
grep -q "wrong passphrase, try again" "$WORK/err" || fail "no second try: $(cat "$WORK/err")"
# Enter (no passphrase): a new key is not stored in the clear beside encrypted ones.
test_pki
leaf site "DNS:site.example.test"
rc=0; "$TTY" "$WORK/tty.log" "" -- "$CK_BIN" --home "$H" cert import --cert "$WORK/site.pem" --key "$WORK/site.key" \
  --chain "$WORK/inter.pem" --name site > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "cert import without the passphrase in an encrypted store"
grep -q "this store's keys are encrypted (the CA key)" "$WORK/err" || fail "clear key refusal: $(cat "$WORK/err")"
assert_eq "$(db_sql "SELECT count(*) FROM server_certs")" 0 "server keys stored after the refusal"
pass "an encrypted CA key: asked for on a terminal and checked (a typo asks again, three end it; Enter: go on without, but no key is stored in the clear)"

# --- ca passphrase change: every key, one transaction
export CERTKEEPER_CA_PASSPHRASE="$P1"
ck cert import --cert "$WORK/site.pem" --key "$WORK/site.key" --chain "$WORK/inter.pem" --name site > /dev/null
( umask 077; echo "$P2" > "$WORK/p2" )
cp "$WORK/p2" "$WORK/p2-loose"; chmod 644 "$WORK/p2-loose"
expect_error "a new passphrase file others can read" "can be read by others" -- \
  ck ca passphrase change --new-passphrase-file "$WORK/p2-loose"
( umask 077; : > "$WORK/p-empty" )
expect_error "an empty new passphrase file" "p-empty' is empty" -- \
  ck ca passphrase change --new-passphrase-file "$WORK/p-empty"
expect_error "no terminal and no file for the new passphrase" "--new-passphrase-file" -- ck ca passphrase change
expect_error "a wrong current passphrase" "wrong passphrase (nothing changed)" -- \
  env CERTKEEPER_CA_PASSPHRASE=wrong "$CK_BIN" --home "$H" ca passphrase change --new-passphrase-file "$WORK/p2"
rc=0; CERTKEEPER_FAULT=rekey.before_commit ck ca passphrase change --new-passphrase-file "$WORK/p2" \
  > /dev/null 2>&1 || rc=$?
assert_eq "$rc" 137 "rekey.before_commit: killed (is this a test build?)"
ca_key | openssl pkey -passin "pass:$P1" -noout || fail "rekey.before_commit: the CA key no longer opens with the old passphrase"
ck ca passphrase change --new-passphrase-file "$WORK/p2" > "$WORK/out" || fail "ca passphrase change"
grep -q "passphrase changed: the CA key, 1 server certificate keys" "$WORK/out" || fail "summary: $(cat "$WORK/out")"
grep -q "CERTKEEPER_CA_PASSPHRASE" "$WORK/out" || fail "no word on where to put it: $(cat "$WORK/out")"
ca_key | openssl pkey -passin "pass:$P2" -noout || fail "the CA key does not open with the new passphrase"
ca_key | openssl pkey -passin "pass:$P1" -noout 2> /dev/null && fail "the CA key still opens with the old passphrase"
db_sql "SELECT key_pem FROM server_certs WHERE name = 'site'" | openssl pkey -passin "pass:$P2" -pubout > "$WORK/site.pub" \
  || fail "the server key does not open with the new passphrase"
openssl pkey -in "$WORK/site.key" -pubout | cmp -s - "$WORK/site.pub" || fail "the server key is another key"
expect_error "user create with the old passphrase" "wrong CA passphrase" -- \
  ck user create bob --cn Bob --email bob@example.org --out "$WORK/b" --password-file "$WORK/b.pw"
expect_error "cert import with the old passphrase" "wrong CA passphrase: it does not open the CA key" -- \
  ck cert import --cert "$WORK/site.pem" --key "$WORK/site.key" --chain "$WORK/inter.pem" --name site2
CERTKEEPER_CA_PASSPHRASE="$P2" ck user create bob --cn Bob --email bob@example.org --out "$WORK/b" \
  --password-file "$WORK/b.pw" > /dev/null || fail "user create with the new passphrase"
openssl verify -CAfile "$WORK/ca.pem" "$WORK/b/bob.crt" > /dev/null || fail "bob's certificate"
assert_eq "$(db_sql "SELECT count(*) FROM audit WHERE action = 'ca.passphrase_change'")" 1 "one audit entry"
db_sql "SELECT detail FROM audit WHERE action = 'ca.passphrase_change'" | grep -qF "$P2" && fail "the passphrase in the audit"
pass "ca passphrase change: refusals change nothing; killed before commit, the old passphrase still opens; then CA and server keys move"

# --- on a terminal: the current passphrase asked, then the new one twice
unset CERTKEEPER_CA_PASSPHRASE
P3="third passphrase"
"$TTY" "$WORK/tty.log" "$P2" "$P3" "$P3" -- "$CK_BIN" --home "$H" ca passphrase change > "$WORK/out" 2> "$WORK/err" \
  || fail "ca passphrase change on a terminal: $(cat "$WORK/err")"
grep -qF "$P3" "$WORK/tty.log" "$WORK/out" && fail "the new passphrase was echoed"
ca_key | openssl pkey -passin "pass:$P3" -noout || fail "the CA key does not open with the typed passphrase"
pass "ca passphrase change on a terminal: current, then new twice, echo off"

# --- an unencrypted store (--no-passphrase) is encrypted by a change
use_home "$WORK/clear"
ck ca init --name "Clear CA" > /dev/null 2> "$WORK/err"
grep -q "ca passphrase change" "$WORK/err" || fail "the warning does not say how to encrypt it later: $(cat "$WORK/err")"
assert_eq "$(flag)" 0 "key_encrypted with --no-passphrase"
ck ca passphrase change --new-passphrase-file "$WORK/p2" > /dev/null || fail "encrypting an unencrypted store"
assert_eq "$(flag)" 1 "key_encrypted after the change"
ca_key | openssl pkey -passin "pass:$P2" -noout || fail "the key does not open"
CERTKEEPER_CA_PASSPHRASE="$P2" ck ca show | grep -q "encrypted at rest" || fail "ca show after the change"
pass "a store made with --no-passphrase: ca passphrase change encrypts its CA key"

# --- ca init in a home that holds encrypted keys: the same passphrase, or none is refused
use_home "$WORK/servers-first"
CERTKEEPER_CA_PASSPHRASE="$P2" ck cert import --cert "$WORK/site.pem" --key "$WORK/site.key" --chain "$WORK/inter.pem" \
  --name site > /dev/null 2>&1
expect_error "ca init beside encrypted keys, no passphrase" "this store's keys are encrypted" -- \
  "$CK_BIN" --home "$H" ca init --name "Late CA" --no-passphrase
expect_error "ca init beside encrypted keys, another passphrase" "wrong CA passphrase" -- \
  env CERTKEEPER_CA_PASSPHRASE=other "$CK_BIN" --home "$H" ca init --name "Late CA"
CERTKEEPER_CA_PASSPHRASE="$P2" ck ca init --name "Late CA" > /dev/null 2>&1 || fail "ca init with the store's passphrase"
ca_key | openssl pkey -passin "pass:$P2" -noout || fail "the late CA key is not under the store's passphrase"
pass "ca init in a home with encrypted keys takes their passphrase and no other"
