#!/bin/bash
# acme issue / renew and cert import against a real ACME server: Debian's
# pebble with its challenge test server as DNS. pebble rejects 30 % of
# nonces here (PEBBLE_WFE_NONCEREJECT=30): every order must still succeed.
# Chains are checked with `openssl verify` against the root pebble made at start.
. "$(dirname "$0")/lib.sh" "$1"

ACME=14100; MGMT=15100; HTTP01=5102; DNS=8153; CTS=8155
DIR_URL="https://127.0.0.1:$ACME/dir"
P="$WORK/pebble"
pebble_config "$P" $ACME $MGMT $HTTP01 5101
pebble-challtestsrv -management 127.0.0.1:$CTS -dns01 127.0.0.1:$DNS -http01 "" -https01 "" \
  -tlsalpn01 "" -defaultIPv6 "" > "$P/cts.log" 2>&1 &
CTS_PID=$!; CLEANUP_CMDS+=("stop_server $CTS_PID")
start_pebble() {
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=30 PEBBLE_AUTHZREUSE=0 \
    pebble -config "$P/config.json" -dnsserver 127.0.0.1:$DNS >> "$P/pebble.log" 2>&1 &
  PEBBLE_PID=$!; CLEANUP_CMDS+=("stop_server $PEBBLE_PID")
  for _ in $(seq 50); do
    curl -sf --cacert "$P/tls.pem" "$DIR_URL" > /dev/null && break; sleep 0.1
  done
  curl -sf --cacert "$P/tls.pem" "https://127.0.0.1:$MGMT/roots/0" -o "$P/root.pem" || fail "pebble did not start"
}
start_pebble
on_fail() { tail -5 "$P/pebble.log"; }

# The dns-01 hook: sets TXT records through challtestsrv's management API.
# HOOK_PREFIX puts the record somewhere else (a record in the wrong zone).
cat > "$WORK/hook" <<SH
#!/bin/sh
echo "\$1 \$2 \$3" >> "$WORK/hook.log"
case "\$1" in
  add) curl -sf -X POST -d "{\"host\":\"\${HOOK_PREFIX:-}\$2.\",\"value\":\"\$3\"}" http://127.0.0.1:$CTS/set-txt ;;
  remove) curl -sf -X POST -d "{\"host\":\"\${HOOK_PREFIX:-}\$2.\"}" http://127.0.0.1:$CTS/clear-txt ;;
esac
SH
chmod +x "$WORK/hook"
COMMON=(--directory "$DIR_URL" --ca-file "$P/tls.pem" --agree-tos --email ops@example.test)
HTTP=(--http-port $HTTP01 --http-address 127.0.0.1)
DNSOPTS=(--challenge dns-01 --dns-hook "$WORK/hook" --dns-resolver 127.0.0.1:$DNS)

ck ca init --name "Test CA" > /dev/null  # a store for expect_error's before/after dumps

# --- http-01 for a plain name, files written 0600, chain verified by openssl
ck acme issue --domain www.example.test "${COMMON[@]}" "${HTTP[@]}" --out "$WORK/www" > "$WORK/issue.out"
grep -q "issued 'www.example.test' (version 1)" "$WORK/issue.out" || fail "issue output: $(cat "$WORK/issue.out")"
for f in cert.pem chain.pem fullchain.pem key.pem; do
  assert_eq "$(stat -L -c %a "$WORK/www/$f")" 600 "mode of $f"
done
assert_eq "$(openssl verify -CAfile "$P/root.pem" -untrusted "$WORK/www/chain.pem" "$WORK/www/cert.pem")" \
  "$WORK/www/cert.pem: OK" "openssl verify of the http-01 certificate"
openssl x509 -in "$WORK/www/cert.pem" -noout -ext subjectAltName | grep -q "DNS:www.example.test" \
  || fail "SAN of the http-01 certificate"
[ "$(openssl x509 -in "$WORK/www/cert.pem" -noout -pubkey | openssl sha256)" = \
  "$(openssl pkey -in "$WORK/www/key.pem" -pubout | openssl sha256)" ] || fail "key.pem does not match cert.pem"
cat "$WORK/www/cert.pem" "$WORK/www/chain.pem" | cmp -s - "$WORK/www/fullchain.pem" || fail "fullchain.pem"
pass "http-01: www.example.test issued, verified against pebble's root, files 0600"

# An RSA account key signs with RS256; an RSA certificate key on request.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/rsa-account.pem" 2>/dev/null
ck acme issue --domain rsa.example.test "${COMMON[@]}" "${HTTP[@]}" --account-key "$WORK/rsa-account.pem" \
  --key-type rsa-2048 --out "$WORK/rsa" > /dev/null
openssl x509 -in "$WORK/rsa/cert.pem" -noout -text | grep -q "Public-Key: (2048 bit)" || fail "RSA certificate key"
assert_eq "$(openssl verify -CAfile "$P/root.pem" -untrusted "$WORK/rsa/chain.pem" "$WORK/rsa/cert.pem")" \
  "$WORK/rsa/cert.pem: OK" "openssl verify of the RSA certificate"
pass "RS256 account key, rsa-2048 certificate"

# --- dns-01 for a wildcard and its apex: two TXT values on one name at once
ck acme issue --domain '*.example.test' --domain example.test "${COMMON[@]}" "${DNSOPTS[@]}" \
  --out "$WORK/wild" --json > "$WORK/wild.json"
assert_eq "$(json 'd["name"]' < "$WORK/wild.json")" "wildcard.example.test" "wildcard default name"
openssl x509 -in "$WORK/wild/cert.pem" -noout -ext subjectAltName | grep -q "DNS:\*.example.test, DNS:example.test" \
  || fail "SAN of the wildcard certificate"
assert_eq "$(openssl verify -CAfile "$P/root.pem" -untrusted "$WORK/wild/chain.pem" "$WORK/wild/cert.pem")" \
  "$WORK/wild/cert.pem: OK" "openssl verify of the wildcard certificate"
assert_eq "$(grep -c '^add _acme-challenge.example.test ' "$WORK/hook.log")" 2 "hook add calls"
assert_eq "$(grep -c '^remove _acme-challenge.example.test ' "$WORK/hook.log")" 2 "hook remove calls"
pass "dns-01: *.example.test + example.test issued; hook added both values and removed them"

# --- the inventory lists both; keys are stored encrypted when a passphrase is set
ck cert list --json > "$WORK/list.json"
assert_eq "$(json '",".join(sorted(r["name"] for r in d if r.get("kind")=="server"))' < "$WORK/list.json")" \
  "rsa.example.test,wildcard.example.test,www.example.test" "cert list server names"
assert_eq "$(json '[r["sha256"] for r in d if r.get("name")=="www.example.test"][0]' < "$WORK/list.json")" \
  "$(openssl x509 -in "$WORK/www/cert.pem" -outform DER | openssl sha256 -r | cut -d' ' -f1)" "listed sha256"
pass "cert list shows server certificates"

# --- renew --dry-run: decides as a renewal does, checks up to the order, and
# changes nothing: the store, the --out files, and no order at the server.
acme_state() { db_dump; find "$WORK/www" "$WORK/rsa" "$WORK/wild" -type f -print0 | sort -z | xargs -0 sha256sum; }
orders() { grep -c "POST /order-plz" "$P/pebble.log" || true; }
before=$(acme_state); orders_before=$(orders)
ck acme renew --all --before 2000d --dry-run > "$WORK/dry.out" || fail "renew --dry-run: $(cat "$WORK/dry.out")"
grep -q "^www.example.test: due (.*): would renew" "$WORK/dry.out" || fail "dry run: due: $(cat "$WORK/dry.out")"
grep -q "checked: the account key opens and the server knows its account" "$WORK/dry.out" \
  || fail "dry run checks the account: $(cat "$WORK/dry.out")"
assert_eq "$(grep -c ': would renew' "$WORK/dry.out")" 3 "dry run: three due"
ck acme renew --name www.example.test --dry-run > "$WORK/dry.out" || fail "renew --dry-run (not due)"
grep -q "^www.example.test: not due" "$WORK/dry.out" || fail "dry run: not due: $(cat "$WORK/dry.out")"
assert_eq "$(orders)" "$orders_before" "no order at the ACME server"
# With a staging directory (pebble again): the whole order there, dropped.
ck acme renew --name www.example.test --before 2000d --dry-run --staging-directory "$DIR_URL" --staging-ca-file "$P/tls.pem" --json \
  > "$WORK/dry.json" || fail "renew --dry-run --staging-directory: $(cat "$WORK/dry.json")"
assert_eq "$(json 'd[0]["dry_run"], d[0]["renewed"]' < "$WORK/dry.json")" "(True, True)" "staging dry run"
json 'd[0]["checked"][-1]' < "$WORK/dry.json" | grep -q "^staging $DIR_URL issued www.example.test (sha256 .*; dropped, not stored)" \
  || fail "staging order: $(cat "$WORK/dry.json")"
[ "$(orders)" -gt "$orders_before" ] || fail "the staging order reached the server"
assert_eq "$(acme_state)" "$before" "renew --dry-run changes no store row and no file"
ck -q acme renew --name www.example.test > "$WORK/q.out" || fail "renew -q (not due)"
[ ! -s "$WORK/q.out" ] || fail "renew -q printed: $(cat "$WORK/q.out")"
expect_error "staging without --dry-run" "--staging-directory is for --dry-run only" -- \
  ck acme renew --name www.example.test --staging-directory "$DIR_URL"
expect_error "staging CA file without a staging directory" "--staging-ca-file is for --staging-directory only" -- \
  ck acme renew --name www.example.test --dry-run --staging-ca-file "$P/tls.pem"
expect_error "a staging directory that is no URL" "invalid --staging-directory 'staging'" -- \
  ck acme renew --name www.example.test --dry-run --staging-directory staging
pass "renew --dry-run: due/not due as a renewal decides, account checked, no order; staging order dropped; nothing changed; -q silent"

# --- renew: not due (5-year pebble certificates), then due with --before
ck acme renew --name www.example.test > "$WORK/renew.out" || fail "renew (not due): $(cat "$WORK/renew.out")"
grep -q "www.example.test: not due" "$WORK/renew.out" || fail "renew when not due: $(cat "$WORK/renew.out")"
old_sha=$(openssl x509 -in "$WORK/www/cert.pem" -outform DER | openssl sha256 -r | cut -d' ' -f1)
ck acme renew --all --before 2000d --parallel 2 --json > "$WORK/renew.json"
assert_eq "$(json '",".join(str(r["renewed"]) for r in d)' < "$WORK/renew.json")" "True,True,True" "renew --all"
new_sha=$(openssl x509 -in "$WORK/www/cert.pem" -outform DER | openssl sha256 -r | cut -d' ' -f1)
[ "$old_sha" != "$new_sha" ] || fail "renewal did not rewrite $WORK/www/cert.pem: $(cat "$WORK/renew.json")"
assert_eq "$(openssl verify -CAfile "$P/root.pem" -untrusted "$WORK/www/chain.pem" "$WORK/www/cert.pem")" \
  "$WORK/www/cert.pem: OK" "renewed certificate verifies"
assert_eq "$(ck cert list --json | json '[r["version"] for r in d if r.get("name")=="www.example.test"][0]')" 2 "version after renewal"
pass "renew: not due, then --before renews all three in parallel and rewrites --out files"

# --- failures, each one line, exit 1, store unchanged, no files left behind
expect_error "wrong directory" "https://127.0.0.1:$ACME/nope" -- \
  ck acme issue --domain a.example.test --directory "https://127.0.0.1:$ACME/nope" --ca-bundle "$P/tls.pem" --agree-tos "${HTTP[@]}"
expect_error "unreachable responder" "unreach.example.test: http-01 challenge failed" -- \
  ck acme issue --domain unreach.example.test "${COMMON[@]}" --webroot "$WORK/not-served" --out "$WORK/unreach"
grep -q "connection refused\|Connection refused\|Fetching" "$WORK/err" || fail "unreachable: no server detail: $(cat "$WORK/err")"
[ ! -e "$WORK/unreach/cert.pem" ] || fail "unreachable: files written"
hook_lines=$(wc -l < "$WORK/hook.log")
HOOK_PREFIX=wrong. expect_error "record in the wrong zone" \
  "TXT record _acme-challenge.zone.example.test" -- \
  ck acme issue --domain zone.example.test "${COMMON[@]}" "${DNSOPTS[@]}" --dns-timeout 2s
grep -q "found no TXT record" "$WORK/err" || fail "wrong zone: does not say what it found: $(cat "$WORK/err")"
tail -n +$((hook_lines + 1)) "$WORK/hook.log" | grep -q "^remove _acme-challenge.zone.example.test" \
  || fail "wrong zone: the hook's remove did not run"
expect_error "wildcard over http-01" "dns-01" -- \
  ck acme issue --domain '*.example.test' "${COMMON[@]}" "${HTTP[@]}"
expect_error "bad domain" "invalid domain 'bad_name!'" -- \
  ck acme issue --domain 'bad_name!' "${COMMON[@]}" "${HTTP[@]}"
expect_error "unknown name" "no server certificate named 'nope'" -- ck acme renew --name nope
# Debian 12's pebble lists no profiles: asking for one says so before anything is ordered.
expect_error "profile not offered" "--profile shortlived: the ACME server offers no profiles" -- \
  ck acme issue --domain p.example.test "${COMMON[@]}" "${HTTP[@]}" --profile shortlived
expect_error "profile on renew" "--profile shortlived: the ACME server offers no profiles" -- \
  ck acme renew --name www.example.test --before 2000d --profile shortlived
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/new-account.pem" 2>/dev/null
expect_error "terms not agreed" "pass --agree-tos" -- \
  ck acme issue --domain tos.example.test --directory "$DIR_URL" --ca-bundle "$P/tls.pem" "${HTTP[@]}" \
  --account-key "$WORK/new-account.pem"
pass "failures: wrong directory, unreachable responder (with pebble's detail), TXT in the wrong zone (hook removed), wildcard on http-01, bad domain, unknown name, profile not offered, terms not agreed"

# The ACME server dies mid-order: the hook stops pebble once the record is set.
cat > "$WORK/killhook" <<SH
#!/bin/sh
"$WORK/hook" "\$@"
[ "\$1" = add ] && kill \$(cat "$WORK/pebble.pid")
exit 0
SH
chmod +x "$WORK/killhook"
echo "$PEBBLE_PID" > "$WORK/pebble.pid"
expect_error "server stopped mid-order" "127.0.0.1:$ACME" -- \
  ck acme issue --domain dead.example.test "${COMMON[@]}" --challenge dns-01 --dns-hook "$WORK/killhook" \
  --dns-resolver 127.0.0.1:$DNS --dns-timeout 1s --out "$WORK/dead"
[ ! -e "$WORK/dead" ] || fail "server stopped: files written"
pass "ACME server stopped mid-order: one error line, nothing stored, no files"

# --- cert import: a certificate from elsewhere (here: pebble's, via the files)
ck cert import --cert "$WORK/www/cert.pem" --chain "$WORK/www/chain.pem" --key "$WORK/www/key.pem" \
  --name bought > "$WORK/import.out"
grep -q "imported 'bought' (version 1, 1 intermediate certificate)" "$WORK/import.out" || fail "import: $(cat "$WORK/import.out")"
# The renewed wildcard's own files: a fullchain, named by default after its
# first domain, and already the newest version of that name, so refused.
expect_error "import of the newest version again" "already stored as 'wildcard.example.test' version 2" -- \
  ck cert import --cert "$WORK/wild/fullchain.pem" --key "$WORK/wild/key.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=other.example.test \
  -keyout "$WORK/other.key" -out "$WORK/other.pem" 2>/dev/null
faketime '2020-01-01 00:00:00' openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=old.example.test -keyout "$WORK/old.key" -out "$WORK/old.pem" 2>/dev/null
printf 'not a certificate\n' > "$WORK/garbage.pem"
expect_error "import: key mismatch" "the key does not match" -- \
  ck cert import --cert "$WORK/www/cert.pem" --key "$WORK/other.key"
expect_error "import: expired" "expired at 2020-01-02" -- \
  ck cert import --cert "$WORK/old.pem" --key "$WORK/old.key"
expect_error "import: foreign chain" "does not issue the one below it (CN=other.example.test)" -- \
  ck cert import --cert "$WORK/www/cert.pem" --key "$WORK/www/key.pem" --chain "$WORK/other.pem"
expect_error "import: malformed PEM" "$WORK/garbage.pem" -- \
  ck cert import --cert "$WORK/garbage.pem" --key "$WORK/www/key.pem"
expect_error "import: missing key file" "$WORK/nokey.pem" -- \
  ck cert import --cert "$WORK/www/cert.pem" --key "$WORK/nokey.pem"
expect_error "renew an imported certificate" "was imported" -- ck acme renew --name bought
pass "cert import: stored with its chain; key mismatch, expired, foreign chain, malformed PEM refused"

# --- keys are encrypted at rest when a passphrase is set (like the CA key)
CERTKEEPER_CA_PASSPHRASE=correct-horse ck cert import --cert "$WORK/www/cert.pem" \
  --chain "$WORK/www/chain.pem" --key "$WORK/www/key.pem" --name sealed > /dev/null
db_sql "SELECT key_pem FROM server_certs WHERE name='sealed'" \
  | grep -q "BEGIN ENCRYPTED PRIVATE KEY" || fail "server key not encrypted at rest"
db_sql "SELECT key_pem FROM server_certs WHERE name='bought'" \
  | grep -q "BEGIN PRIVATE KEY" || fail "unencrypted store row"
ck cert list --json | grep -q "PRIVATE KEY" && fail "a key in cert list --json"
pass "server keys encrypted at rest with the passphrase; never in --json"

# --- killed at each step (a test build; CERTKEEPER_FAULT=point), in a home of its own
# so that the account is created here. Account: the key is stored before the
# server registers it, so the rerun uses the same account (one key, one
# account). --out: a kill leaves the previous set or the new one, never a mix,
# and the next `acme renew` (due or not) publishes what the store holds.
start_pebble  # stopped by the mid-order test above
use_home "$WORK/crash-home"  # from here on, every command works on it
ck2() { ck "$@"; }
ck2 ca init --name "Crash CA" > /dev/null 2>&1
crash() {  # crash POINT command... : the command must die at POINT
  local point="$1" rc=0; shift
  CERTKEEPER_FAULT="$point" "$@" > "$WORK/crash.log" 2>&1 || rc=$?
  assert_eq "$rc" 137 "$point: killed by SIGKILL (is this a test build?) $(tail -2 "$WORK/crash.log")"
}
account_keys() { db_sql "SELECT key_pem FROM acme_accounts" | sha256sum; }
pair_ok() {  # pair_ok DIR: cert.pem matches key.pem and chains to pebble's root
  [ "$(openssl x509 -in "$1/cert.pem" -noout -pubkey | openssl sha256)" = \
    "$(openssl pkey -in "$1/key.pem" -pubout | openssl sha256)" ] || fail "$1: key.pem does not match cert.pem"
  openssl verify -CAfile "$P/root.pem" -untrusted "$1/chain.pem" "$1/cert.pem" > /dev/null || fail "$1: chain"
}
out_sha() { openssl x509 -in "$WORK/crash/cert.pem" -outform DER | openssl sha256 -r | cut -d' ' -f1; }
stored_sha() { ck2 cert list --json | json '[r["sha256"] for r in d if r.get("name")=="crash.example.test"][0]'; }
CRASH=(acme issue --domain crash.example.test "${COMMON[@]}" "${HTTP[@]}" --out "$WORK/crash")

crash acme.after_account ck2 "${CRASH[@]}"
assert_eq "$(db_sql "SELECT count(*) FROM acme_accounts")" 1 \
  "acme.after_account: the account key is stored once the server knows it"
keys=$(account_keys)
ck2 "${CRASH[@]}" > /dev/null || fail "acme.after_account: issue again"
assert_eq "$(account_keys)" "$keys" "acme.after_account: the rerun uses the same account key"
pair_ok "$WORK/crash"
pass "acme.after_account: the rerun registers the same key (no second account) and gets a certificate"

for point in acme.after_store out.after_version out.after_swap; do
  before=$(out_sha)
  crash "$point" ck2 acme renew --name crash.example.test --before 2000d
  pair_ok "$WORK/crash"
  [ "$point" = out.after_swap ] && assert_eq "$(out_sha)" "$(stored_sha)" "$point: the new set"
  [ "$point" != out.after_swap ] && assert_eq "$(out_sha)" "$before" "$point: the previous set"
  ck2 acme renew --name crash.example.test > "$WORK/crash.out" || fail "$point: renew: $(cat "$WORK/crash.out")"
  grep -q "not due" "$WORK/crash.out" || fail "$point: renew should not order again: $(cat "$WORK/crash.out")"
  pair_ok "$WORK/crash"
  assert_eq "$(out_sha)" "$(stored_sha)" "$point: the next renew publishes the stored certificate"
  ! ls -a "$WORK/crash" | grep -q '\.tmp-' || fail "$point: temporary file left"
  pass "$point: a complete set on disk; the next renew (not due) publishes the stored one"
done

# cert import: killed before the commit, nothing stored; after it, importing again stores nothing more.
IMPORT=(cert import --cert "$WORK/www/cert.pem" --chain "$WORK/www/chain.pem" --key "$WORK/www/key.pem" --name imp)
crash servercert.before_commit ck2 "${IMPORT[@]}"
ck2 cert list --json | grep -q '"imp"' && fail "servercert.before_commit: nothing may be stored"
crash servercert.after_commit ck2 "${IMPORT[@]}"
rc=0; ck2 "${IMPORT[@]}" > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "servercert.after_commit: importing again"
grep -q "already stored as 'imp' version 1; nothing changed" "$WORK/err" || fail "import again: $(cat "$WORK/err")"
assert_eq "$(db_sql "SELECT count(*) FROM server_certs WHERE name='imp'")" 1 "one version"
pass "servercert.before_commit stores nothing; servercert.after_commit stored once"

# --- ca passphrase change: the ACME account key (stored in the clear: this
# home had no passphrase) and every server key are encrypted under the new
# passphrase, and the next renewal signs its order with the same account.
( umask 077; echo "acme test passphrase" > "$WORK/new.pass" )
account_pub=$(db_sql "SELECT key_pem FROM acme_accounts" | openssl pkey -pubout)
ck2 ca passphrase change --new-passphrase-file "$WORK/new.pass" --json > "$WORK/change.json"
assert_eq "$(json 'd["acme_accounts"]' < "$WORK/change.json")" 1 "ACME account keys re-encrypted"
assert_eq "$(db_sql "SELECT key_encrypted FROM acme_accounts")" "$(pg_store && echo t || echo 1)" "account key flag"
db_sql "SELECT key_pem FROM acme_accounts" | grep -q "BEGIN ENCRYPTED PRIVATE KEY" || fail "account key not encrypted"
expect_error "renew without the new passphrase" "is encrypted" -- ck2 acme renew --name crash.example.test --before 2000d
expect_error "renew --dry-run without the new passphrase" "is encrypted" -- \
  ck2 acme renew --name crash.example.test --before 2000d --dry-run
CERTKEEPER_CA_PASSPHRASE="acme test passphrase" ck2 acme renew --name crash.example.test --before 2000d \
  > "$WORK/crash.out" || fail "renew after the passphrase change: $(cat "$WORK/crash.out")"
pair_ok "$WORK/crash"
assert_eq "$(db_sql "SELECT key_pem FROM acme_accounts" | openssl pkey -passin "file:$WORK/new.pass" -pubout)" \
  "$account_pub" "the same account key after the change"
pass "ca passphrase change: the ACME account key encrypted; the next renewal uses the same account"
