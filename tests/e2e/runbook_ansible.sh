#!/bin/bash
# The server-certificate runbook with the tools operators use: the example in
# examples/runbook (an Ansible play, a role with a reload handler, three nginx
# nodes on loopback, monit pinning each node's certificate MD5, a PagerDuty
# maintenance window as hooks) driven by a certkeeper rollout plan whose
# targets run the play per node. Checked with openssl s_client (leaf and
# chain), the nodes' files byte for byte and by mode, monit's own status, the
# calls PagerDuty's API received, and the journal.
. "$(dirname "$0")/lib.sh" "$1"
for tool in nginx ansible-playbook monit; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh)"
done
. "$(dirname "$0")/runbook_lib.sh"
export CERTKEEPER_CA_PASSPHRASE="runbook test passphrase"

test_pki
for v in v1 v2 v3; do
  leaf "$v" "DNS:www.example.test,IP:127.0.0.1"
  cat "$WORK/$v.pem" "$WORK/inter.pem" > "$WORK/$v.fullchain"
done
ck ca init --name "Runbook CA" > /dev/null 2>&1
for v in v1 v2; do
  ck cert import --cert "$WORK/$v.pem" --key "$WORK/$v.key" --chain "$WORK/inter.pem" --name www > /dev/null 2>&1
done

runbook_up "$WORK/v1.fullchain" "$WORK/v1.key" "$WORK/root.pem"
V1=$(sha_of "$WORK/v1.pem"); V2=$(sha_of "$WORK/v2.pem"); V3=$(sha_of "$WORK/v3.pem")
assert_eq "$(fleet)" "$V1 $V1 $V1" "the nodes serve v1"
wait_monit "OK|OK|OK"
on_fail() { for n in 1 2 3; do echo "--- node$n"; tail -3 "$R/nodes/node$n/logs/error.log"; done; }
files() { sha256sum "$R"/nodes/node*/ssl/* | sort; }

# 1. --check: Ansible's check mode reports the change (its --diff is printed in
# text mode), nothing is written, no node changes, no key in the output.
before=$(files)
rc=0; ck rollout apply "$PLAN" --check > "$WORK/check.txt" 2>&1 || rc=$?
assert_eq "$rc" 0 "rollout apply --check ($(tail -3 "$WORK/check.txt"))"
assert_eq "$(grep -c 'node[123] *: ok=[0-9]* *changed=2 ' "$WORK/check.txt")" 3 "Ansible's check mode: two changes on each node"
grep -q "| +++ after: .*fullchain.pem" "$WORK/check.txt" || fail "no --diff in the text output: $(cat "$WORK/check.txt")"
assert_eq "$(files)" "$before" "--check wrote nothing on the nodes"
assert_eq "$(fleet)" "$V1 $V1 $V1" "--check changed no node"
if grep -q "PRIVATE KEY" "$WORK/check.txt"; then fail "a key in the check output"; fi
pass "apply --check: Ansible check mode with --diff, nothing written"

# 2. The canary, then the rest; every node checked by an independent client.
ck rollout apply "$PLAN" --stage canary > "$WORK/canary.txt" 2>&1 || fail "canary: $(cat "$WORK/canary.txt")"
assert_eq "$(fleet)" "$V2 $V1 $V1" "only node1 serves v2 after the canary stage"
client_accepts "$P1" www.example.test || fail "a client refuses node1: $(tail -5 "$WORK/s_client.log")"
ck rollout apply "$PLAN" > "$WORK/rest.txt" 2>&1 || fail "rest: $(cat "$WORK/rest.txt")"
assert_eq "$(fleet)" "$V2 $V2 $V2" "every node serves v2"
for p in $P1 $P2 $P3; do client_accepts "$p" www.example.test || fail "a client refuses $p"; done
assert_eq "$(stat -c %a "$R"/nodes/node*/ssl/key.pem | sort -u)" 600 "keys 0600, as the role says"
cmp -s "$R/nodes/node3/ssl/fullchain.pem" "$WORK/v2.fullchain" || fail "node3's file is not v2's full chain"
ck verify "$PLAN" > "$WORK/verify.txt" || fail "verify: $(cat "$WORK/verify.txt")"
pass "canary then the rest, through the play; verify agrees"

# monit: the pins now hold v2's MD5 (rewritten once every node was verified,
# the files still 0600), monit reloaded by the after hook, every check passes.
assert_eq "$(grep -ho 'MD5 [0-9A-F]\{32\}' "$R"/monit/conf.d/*.conf | sort -u)" "MD5 $(md5_hex "$WORK/v2.pem")" "the pins hold v2's MD5"
assert_eq "$(stat -c %a "$R"/monit/conf.d/*.conf | sort -u)" 600 "pin files keep their mode"
monit -c "$MONITRC" -t > /dev/null 2>&1 || fail "monit -t after the pin rewrite"
wait_monit "OK|OK|OK"
# PagerDuty: the full run opened a window before node2's deploy and closed it
# after node3 was verified, saying how it ended.
assert_eq "$(pd_calls 3)" "POST /maintenance_windows certificate rollout of www
PUT /maintenance_windows/PW2 certificate rollout ended: done
DELETE /maintenance_windows/PW2 " "a maintenance window around the run"
/usr/bin/python3 -c 'import os, sys; sys.exit(not float(sys.argv[1]) < os.path.getmtime(sys.argv[2]) < float(sys.argv[3]))' \
  "$(pd_at 3)" "$R/nodes/node3/ssl/fullchain.pem" "$(pd_at 1)" || fail "the window does not span node3's deploy"
pass "monit: every node passes with the rewritten pins; the PagerDuty window spans the deploys"

# 3. An Ansible failure on node2 (its ssl folder is a file now) stops the
# rollout there, Ansible's error in the journal; node3 is not touched.
ck cert import --cert "$WORK/v3.pem" --key "$WORK/v3.key" --chain "$WORK/inter.pem" --name www > /dev/null 2>&1
mv "$R/nodes/node2/ssl" "$R/nodes/node2/ssl.good"; touch "$R/nodes/node2/ssl"
rc=0; ck rollout apply "$PLAN" > "$WORK/fail.txt" 2> "$WORK/fail.err" || rc=$?
assert_eq "$rc" 1 "a failed play: exit 1"
assert_eq "$(grep -c '^certkeeper: error: ' "$WORK/fail.err")" 1 "one error line: $(cat "$WORK/fail.err")"
grep -q "^certkeeper: error: .*node2" "$WORK/fail.err" || fail "the error names node2: $(cat "$WORK/fail.err")"
assert_eq "$(fleet)" "$V3 $V2 $V2" "node1 on v3, node2 failed, node3 untouched"
ck rollout status "$PLAN" > "$WORK/status.txt"
grep -q "rest/node2 .*failed" "$WORK/status.txt" || fail "status: $(cat "$WORK/status.txt")"
grep -q "| .*FAILED!" "$WORK/status.txt" || fail "status shows no Ansible error: $(cat "$WORK/status.txt")"
grep -q "| .*FAILED!" "$WORK/fail.txt" || fail "apply shows no Ansible error: $(cat "$WORK/fail.txt")"
assert_eq "$(pd_calls 2)" "PUT /maintenance_windows/PW3 certificate rollout ended: failed
DELETE /maintenance_windows/PW3 " "the window is closed after a failure too"
assert_eq "$(grep -ho 'MD5 [0-9A-F]\{32\}' "$R"/monit/conf.d/*.conf | sort -u)" "MD5 $(md5_hex "$WORK/v2.pem")" "no pin changes on a failed rollout"
pass "an Ansible failure stops the rollout at node2, with Ansible's error: $(grep -m1 'FAILED!' "$WORK/status.txt" | cut -c1-120)"

# 4. Roll back through the play once node2 is fixed: v2 everywhere again.
rm "$R/nodes/node2/ssl"; mv "$R/nodes/node2/ssl.good" "$R/nodes/node2/ssl"
ck rollout rollback "$PLAN" > "$WORK/rollback.txt" 2>&1 || fail "rollback: $(cat "$WORK/rollback.txt")"
assert_eq "$(fleet)" "$V2 $V2 $V2" "rolled back to v2 through the play"
cmp -s "$R/nodes/node1/ssl/fullchain.pem" "$WORK/v2.fullchain" || fail "node1's file is not v2's full chain after the rollback"
pass "rollback restores the previous certificate through the play"

# 5. A plan that leaves node3's monit file out of its pins: the rollout
# succeeds, and monit reports node3 failing (it pins v2, serves v3).
sed 's|paths = \["monit/conf.d/node1.conf", "monit/conf.d/node2.conf", "monit/conf.d/node3.conf"\]|paths = ["monit/conf.d/node1.conf", "monit/conf.d/node2.conf"]|' \
  "$PLAN" > "$R/plan-nopin3.toml"
grep -q 'paths = \["monit/conf.d/node1.conf", "monit/conf.d/node2.conf"\]' "$R/plan-nopin3.toml" || fail "the plan variant"
ck rollout apply "$R/plan-nopin3.toml" > "$WORK/nopin.txt" 2>&1 || fail "rollout without node3's pin: $(cat "$WORK/nopin.txt")"
assert_eq "$(fleet)" "$V3 $V3 $V3" "every node serves v3"
wait_monit "OK|OK|Connection failed"
grep -q "SSL server certificate checksum failed\|checksum" "$R/monit/monit.log" || fail "monit's log gives no reason: $(tail -5 "$R/monit/monit.log")"
pass "monit reports node3, whose pin file the plan left out: $(monit_states)"

# 6. monit's configuration broken by hand (a typo in node3's file): the
# rollback itself completes, the after hook `monit reload` fails, and that is
# one error line naming monit, exit 1; the journal says rolled-back.
sed -i 's/^  if failed port/  iff failed port/' "$R/monit/conf.d/node3.conf"
rc=0; ck rollout rollback "$R/plan-nopin3.toml" > "$WORK/rb6.txt" 2> "$WORK/rb6.err" || rc=$?
assert_eq "$rc" 1 "a failing monit reload: exit 1"
assert_eq "$(grep -c '^certkeeper: error: ' "$WORK/rb6.err")" 1 "one error line: $(cat "$WORK/rb6.err")"
grep -q "^certkeeper: error: .*monit" "$WORK/rb6.err" || fail "the error names monit: $(cat "$WORK/rb6.err")"
assert_eq "$(fleet)" "$V2 $V2 $V2" "rolled back to v2 all the same"
ck --json rollout status "$R/plan-nopin3.toml" > "$WORK/st6.json"
assert_eq "$(json 'd["state"]' < "$WORK/st6.json")" "rolled-back" "the journal: rolled back"
assert_eq "$(pd_calls 2 | cut -d' ' -f1,3-)" "PUT certificate rollout ended: rolled-back
DELETE " "the maintenance window is closed although monit's hook, before it, failed"
pass "a broken monit configuration: $(head -1 "$WORK/rb6.err" | cut -c1-160)"
