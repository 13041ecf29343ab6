#!/bin/bash
# The runbook's certificate from ACME: a wildcard (*.example.test and
# example.test) from Debian's pebble by dns-01 (the TXT records set through a
# hook in pebble-challtestsrv), stored, and rolled out to the example
# runbook's three nginx nodes by `acme renew --deploy-hook`, the plan naming
# the stored certificate: a renewal reaches every node, monit's pins follow,
# with no file copied by hand. Checked with openssl s_client against pebble's
# root, monit's status and the journal.
. "$(dirname "$0")/lib.sh" "$1"
for tool in nginx ansible-playbook monit pebble pebble-challtestsrv; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh)"
done
. "$(dirname "$0")/runbook_lib.sh"
# The passphrase from a file named in the home's certkeeper.toml: the deploy
# hook's certkeeper reads it there (certkeeper's environment secrets are
# withheld from the commands it runs).
mkdir -p -m 700 "$H"
printf 'runbook acme passphrase\n' > "$H/passphrase"; chmod 600 "$H/passphrase"
printf '[ca]\npassphrase_file = "%s/passphrase"\n' "$H" > "$H/certkeeper.toml"

ACME=14300; MGMT=15300; DNS=8353; CTS=8355
DIR_URL="https://127.0.0.1:$ACME/dir"
P="$WORK/pebble"
pebble_config "$P" $ACME $MGMT 5302 5301
pebble-challtestsrv -management 127.0.0.1:$CTS -dns01 127.0.0.1:$DNS -http01 "" -https01 "" \
  -tlsalpn01 "" -defaultIPv6 "" > "$P/cts.log" 2>&1 &
CLEANUP_CMDS+=("stop_server $!")
PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 pebble -config "$P/config.json" -dnsserver 127.0.0.1:$DNS \
  > "$P/pebble.log" 2>&1 &
PEBBLE_PID=$!
CLEANUP_CMDS+=("stop_server $PEBBLE_PID")
for _ in $(seq 50); do curl -sf --noproxy '*' --cacert "$P/tls.pem" "$DIR_URL" > /dev/null && break; sleep 0.1; done
curl -sf --noproxy '*' --cacert "$P/tls.pem" "https://127.0.0.1:$MGMT/roots/0" -o "$P/root.pem" || fail "pebble did not start"
cat > "$WORK/dns-hook" <<SH
#!/bin/sh
case "\$1" in
  add) curl -sf --noproxy '*' -X POST -d "{\"host\":\"\$2.\",\"value\":\"\$3\"}" http://127.0.0.1:$CTS/set-txt ;;
  remove) curl -sf --noproxy '*' -X POST -d "{\"host\":\"\$2.\"}" http://127.0.0.1:$CTS/clear-txt ;;
esac
SH
chmod +x "$WORK/dns-hook"
on_fail() { tail -5 "$P/pebble.log"; for n in 1 2 3; do tail -3 "$R/nodes/node$n/logs/error.log" 2>/dev/null; done; }

# The wildcard, issued by dns-01, its files in $WORK/wild.
"$CK_BIN" --home "$H" ca init --name "Runbook CA" > /dev/null 2>&1
ck acme issue --domain '*.example.test' --domain example.test --directory "$DIR_URL" --ca-bundle "$P/tls.pem" \
  --agree-tos --email ops@example.test --challenge dns-01 --dns-hook "$WORK/dns-hook" \
  --dns-resolver 127.0.0.1:$DNS --out "$WORK/wild" > "$WORK/issue.txt" 2>&1 || fail "issue: $(cat "$WORK/issue.txt")"
NAME=wildcard.example.test
grep -q "issued '$NAME' (version 1)" "$WORK/issue.txt" || fail "issue: $(cat "$WORK/issue.txt")"
W1=$(sha_of "$WORK/wild/cert.pem")

# The runbook's nodes serve it; the plan rolls out the stored certificate.
CERT_NAME=$NAME CERTKEEPER="$CK_BIN" runbook_up "$WORK/wild/fullchain.pem" "$WORK/wild/key.pem" "$P/root.pem"
assert_eq "$(fleet)" "$W1 $W1 $W1" "the nodes serve the wildcard"
wait_monit "OK|OK|OK"
grep -q "^name = \"$NAME\"" "$PLAN" || fail "the plan names the stored certificate: $(grep -m1 '^name' "$PLAN")"

# A renewal (due: --before longer than its life) rolls out through the hook.
rc=0; ck acme renew --name "$NAME" --before 3650d --deploy-hook "$R/on-renewal" > "$WORK/renew.txt" 2>&1 || rc=$?
assert_eq "$rc" 0 "renew with the deploy hook ($(tail -5 "$WORK/renew.txt"))"
grep -q "^$NAME: renewed (version 2" "$WORK/renew.txt" || fail "renew: $(cat "$WORK/renew.txt")"
grep -q "^  deploy hook: ok" "$WORK/renew.txt" || fail "hook: $(cat "$WORK/renew.txt")"
grep -q "^state: done" "$WORK/renew.txt" || fail "the hook's rollout report: $(cat "$WORK/renew.txt")"
W2=$(sha_of "$WORK/wild/cert.pem")
[ "$W2" != "$W1" ] || fail "the --out files were not renewed"
assert_eq "$(fleet)" "$W2 $W2 $W2" "every node serves the renewed wildcard"
for p in $P1 $P2 $P3; do
  openssl s_client -connect "127.0.0.1:$p" -servername www.example.test -verify_hostname www.example.test \
    -CAfile "$P/root.pem" -verify_return_error < /dev/null > "$WORK/s_client.log" 2>&1 ||
    fail "a client trusting pebble's root refuses node on $p: $(tail -3 "$WORK/s_client.log")"
done
openssl x509 -in "$WORK/wild/cert.pem" -noout -ext subjectAltName | grep -q "DNS:\*.example.test" || fail "not a wildcard"
assert_eq "$(grep -ho 'MD5 [0-9A-F]\{32\}' "$R"/monit/conf.d/*.conf | sort -u)" "MD5 $(md5_hex "$WORK/wild/cert.pem")" \
  "monit's pins follow the renewal"
wait_monit "OK|OK|OK"
assert_eq "$(ck --json rollout status "$PLAN" | json 'd["state"]')" done "the journal: done"
pass "a renewed wildcard from pebble reached every node through --deploy-hook; monit passes"

# Not due: no hook, nothing rolled out.
ck acme renew --name "$NAME" --deploy-hook "$R/on-renewal" > "$WORK/renew2.txt" 2>&1 || fail "renew (not due): $(cat "$WORK/renew2.txt")"
grep -q "^$NAME: not due" "$WORK/renew2.txt" || fail "renew: $(cat "$WORK/renew2.txt")"
if grep -q "deploy hook" "$WORK/renew2.txt"; then fail "the hook ran for a certificate not renewed"; fi
pass "not due: the hook does not run"

# A renewal whose files never got written (a run killed after the store: the
# folder's `current` link still leads to the previous set): the next run finds
# it not due, writes the files from the store, and runs the hook it owes.
previous_set=$(cd "$WORK/wild" && for d in .v-*; do [ "$d" != "$(readlink current)" ] && echo "$d"; done | head -1)
[ -n "$previous_set" ] || fail "no previous set kept in $WORK/wild: $(ls -a "$WORK/wild")"
ln -sfn "$previous_set" "$WORK/wild/current"
assert_eq "$(sha_of "$WORK/wild/cert.pem")" "$W1" "the files lag the store"
ck acme renew --name "$NAME" --deploy-hook "$R/on-renewal" > "$WORK/renew5.txt" 2>&1 || fail "renew (caught up): $(cat "$WORK/renew5.txt")"
grep -q "^$NAME: not due .*its --out files held another certificate: written from the store" "$WORK/renew5.txt" ||
  fail "renew: $(cat "$WORK/renew5.txt")"
grep -q "^  deploy hook: ok" "$WORK/renew5.txt" || fail "the owed hook did not run: $(cat "$WORK/renew5.txt")"
assert_eq "$(sha_of "$WORK/wild/cert.pem")" "$W2" "cert.pem written from the store"
pass "files that lagged the store: written, and the deploy hook runs"

# A hook that fails: one error line naming it, exit 1, the renewal stands.
printf '#!/bin/sh\necho "rollout refused: maintenance freeze" >&2\nexit 4\n' > "$WORK/bad-hook"; chmod +x "$WORK/bad-hook"
rc=0; ck acme renew --name "$NAME" --before 3650d --deploy-hook "$WORK/bad-hook" > "$WORK/renew3.txt" 2> "$WORK/renew3.err" || rc=$?
assert_eq "$rc" 1 "a failing deploy hook: exit 1"
assert_eq "$(grep -c '^certkeeper: error: ' "$WORK/renew3.err")" 1 "one error line: $(cat "$WORK/renew3.err")"
grep -q "^certkeeper: error: $NAME: renewed, but deploy hook '.*bad-hook' exited with 4: rollout refused: maintenance freeze" "$WORK/renew3.err" ||
  fail "the error: $(cat "$WORK/renew3.err")"
assert_eq "$(ck --json cert list | json "[c['version'] for c in d if c['name'] == '$NAME'][0]")" 3 "the renewal stands (version 3)"
expect_error "a deploy hook that does not exist" "$WORK/nope" -- ck acme renew --name "$NAME" --deploy-hook "$WORK/nope"
expect_error "a deploy hook not in PATH" "'no-such-deploy-hook': not found in PATH" -- \
  ck acme renew --name "$NAME" --deploy-hook no-such-deploy-hook
pass "a failing hook: $(cat "$WORK/renew3.err")"

# pebble dies mid-order (the DNS hook stops it once the record is set): one
# error line naming the ACME server, exit 1, no hook run, nothing rolled out.
cat > "$WORK/kill-dns-hook" <<SH
#!/bin/sh
"$WORK/dns-hook" "\$@"
[ "\$1" = add ] && kill $PEBBLE_PID
exit 0
SH
chmod +x "$WORK/kill-dns-hook"
ck acme issue --domain '*.example.test' --domain example.test --directory "$DIR_URL" --ca-bundle "$P/tls.pem" \
  --agree-tos --email ops@example.test --challenge dns-01 --dns-hook "$WORK/kill-dns-hook" \
  --dns-resolver 127.0.0.1:$DNS --dns-timeout 1s --name doomed > /dev/null 2>&1 && fail "an order with pebble stopped succeeded"
rollouts_before=$(ck --json rollout status "$PLAN" | json 'd["rollout"]')
served_before=$(fleet)
# (the renewal itself now finds the server gone)
rc=0; ck acme renew --name "$NAME" --before 3650d --deploy-hook "$R/on-renewal" > "$WORK/renew4.txt" 2> "$WORK/renew4.err" || rc=$?
assert_eq "$rc" 1 "pebble down: exit 1"
assert_eq "$(grep -c '^certkeeper: error: ' "$WORK/renew4.err")" 1 "one error line: $(cat "$WORK/renew4.err")"
grep -q "127.0.0.1:$ACME" "$WORK/renew4.err" || fail "the error names the ACME server: $(cat "$WORK/renew4.err")"
if grep -q "deploy hook" "$WORK/renew4.txt"; then fail "the hook ran without a renewal"; fi
assert_eq "$(ck --json rollout status "$PLAN" | json 'd["rollout"]') $(fleet)" "$rollouts_before $served_before" \
  "no rollout started, the nodes unchanged"
pass "ACME server gone: $(cat "$WORK/renew4.err")"
