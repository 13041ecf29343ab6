#!/bin/bash
# `rollout apply | status | resume | rollback` against a real fleet on
# loopback: three nginx instances (own prefixes and ports) deployed by `files`
# targets, and an openssl s_server canary on a non-HTTP port deployed by a
# `command` target. The certificates come from an intermediate under a test
# root (the plan's ca_file) and every server sends the intermediate. What every
# endpoint serves is checked with an independent `openssl s_client`; files are
# compared byte for byte.
. "$(dirname "$0")/lib.sh" "$1"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/install-deps.sh)"
export CERTKEEPER_CA_PASSPHRASE="rollout test passphrase"

test_pki
leaf old "DNS:site.example.test,IP:127.0.0.1"
leaf new "DNS:site.example.test,IP:127.0.0.1"
sha_of() { openssl x509 -in "$1" -outform DER | openssl sha256 -r | cut -d' ' -f1; }
md5_hex() { openssl x509 -in "$1" -noout -fingerprint -md5 | cut -d= -f2 | tr -d :; }
OLD=$(sha_of "$WORK/old.pem"); NEW=$(sha_of "$WORK/new.pem")
ck ca init --name "Test CA" > /dev/null 2>&1
ck cert import --cert "$WORK/old.pem" --key "$WORK/old.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
ck cert import --cert "$WORK/new.pem" --key "$WORK/new.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1

served() {  # the SHA-256 an endpoint serves, by openssl s_client ("none" when no handshake)
  local fp
  fp=$(openssl s_client -connect "127.0.0.1:$1" -servername site.example.test < /dev/null 2>/dev/null \
    | openssl x509 -outform DER 2>/dev/null | openssl sha256 -r | cut -d' ' -f1)
  [ "$fp" = "$(printf '' | openssl sha256 -r | cut -d' ' -f1)" ] && fp=none
  echo "$fp"
}
wait_port() {
  for _ in $(seq 100); do
    openssl s_client -connect "127.0.0.1:$1" < /dev/null > /dev/null 2>&1 && return 0; sleep 0.1
  done
  fail "nothing listens on $1"
}

# --- the fleet: the canary (s_server, port C) and nginx node1..3 (ports C+1..C+3)
C=17420
mkdir -p "$WORK/canary"
# deploy-canary FULLCHAIN KEY CHAIN: what an operator's script would do: copy the files
# in place and restart the service. It also prints the key (a careless verbose
# script), as PEM, as `openssl pkey -text` hex and as base64 of its SEC1 DER
# wrapped at 76 with CRLF: the journal must mask each.
cat > "$WORK/deploy-canary" <<SH
#!/bin/sh
set -e
cp "\$1" "$WORK/canary/fullchain.pem"; cp "\$2" "$WORK/canary/key.pem"; cp "\$3" "$WORK/canary/chain.pem"
echo "deploying \$1"; cat "\$2"
openssl pkey -in "\$2" -text -noout
openssl ec -in "\$2" -outform DER 2>/dev/null | base64 -w 76 | sed 's/\$/\r/'
[ -s "$WORK/canary/pid" ] && kill \$(cat "$WORK/canary/pid") 2>/dev/null || true
sleep 0.2
openssl s_server -accept 127.0.0.1:$C -cert "$WORK/canary/fullchain.pem" \
  -cert_chain "$WORK/canary/chain.pem" -key "$WORK/canary/key.pem" -quiet < /dev/null > "$WORK/canary/log" 2>&1 &
echo \$! > "$WORK/canary/pid"
SH
cat > "$WORK/check-canary" <<SH
#!/bin/sh
echo "checked \$1" >> "$WORK/check.log"
openssl x509 -in "\$1" -noout
SH
chmod +x "$WORK/deploy-canary" "$WORK/check-canary"
"$WORK/deploy-canary" "$WORK/old.pem" "$WORK/old.key" "$WORK/inter.pem" > /dev/null
CLEANUP_CMDS+=('kill $(cat "$WORK/canary/pid") 2>/dev/null')
wait_port $C

# reload NODE PREFIX: fails when $WORK/fail-NODE exists (a broken config),
# does nothing when $WORK/noop-NODE exists (a reload that "succeeds" in vain).
cat > "$WORK/reload" <<SH
#!/bin/sh
[ -e "$WORK/fail-\$1" ] && { echo "nginx: [emerg] test failure on \$1 (key \$(openssl ec -in "\$2/ssl/key.pem" -outform DER 2>/dev/null | base64 -w0))"; exit 1; }
[ -e "$WORK/noop-\$1" ] && exit 0
[ -e "$WORK/slow-\$1" ] && { echo \$\$ > "$WORK/reloading-\$1"; exec sleep 30; }
[ -e "$WORK/log-reloads" ] && { echo "start \$1" >> "$WORK/log-reloads"; sleep 1; echo "end \$1" >> "$WORK/log-reloads"; }
exec nginx -p "\$2" -c "\$2/nginx.conf" -s reload
SH
chmod +x "$WORK/reload"
for n in 1 2 3; do
  N="$WORK/node$n"; mkdir -p "$N/logs" "$N/tmp" "$N/ssl"
  cat "$WORK/old.pem" "$WORK/inter.pem" > "$N/ssl/fullchain.pem"; cp "$WORK/old.key" "$N/ssl/key.pem"
  chmod 600 "$N/ssl/key.pem"
  nginx_tls_conf "$N" $((C + n)) "$N/ssl/fullchain.pem" "$N/ssl/key.pem"
  launch_nginx "$N" "$WORK/root.pem" "https://127.0.0.1:$((C + n))/" || fail "nginx node$n did not start"
done
on_fail() { for n in 1 2 3; do tail -3 "$WORK/node$n/logs/error.log"; done; cat "$WORK/canary/log"; }

# --- a monit-style pin, a key to clean up, hooks that log
mkdir -p "$WORK/monit" "$WORK/secure"
printf 'check host site with address 127.0.0.1\n  if failed port %s type tcpssl certmd5 %s then alert\n' \
  $((C + 1)) "$(md5_hex "$WORK/old.pem")" > "$WORK/monit/site.conf"
cp "$WORK/new.key" "$WORK/secure/site.key"

cat > "$WORK/plan.toml" <<TOML
[certificate]
name = "site"
ca_file = "root.pem"

[[hook]]
when = "before"
command = ["sh", "-c", "echo before {{fingerprint_sha256}} >> $WORK/hooks.log"]
[[hook]]
when = "after"
command = ["sh", "-c", "echo after {{outcome}} >> $WORK/hooks.log"]

[[pin]]
paths = ["monit/*.conf"]
algorithm = "md5"
format = "HEX"

[cleanup]
files = ["secure/site.key"]

[[stage]]
name = "canary"
[[stage.target]]
name = "canary"
endpoints = ["127.0.0.1:$C@site.example.test"]
verify_timeout = "10s"
[stage.target.deploy]
kind = "command"
command = ["$WORK/deploy-canary", "{{fullchain_file}}", "{{key_file}}", "{{chain_file}}"]
check_command = ["$WORK/check-canary", "{{cert_file}}"]
timeout = "20s"

[[stage]]
name = "nodes"
parallel = 1
TOML
for n in 1 2 3; do cat >> "$WORK/plan.toml" <<TOML
[[stage.target]]
name = "node$n"
endpoints = ["127.0.0.1:$((C + n))@site.example.test"]
verify_timeout = "$( [ $n = 1 ] && echo 3s || echo 10s )"
[stage.target.deploy]
kind = "files"
fullchain = "node$n/ssl/fullchain.pem"
key = "node$n/ssl/key.pem"
mode = "0644"
$( [ $n = 1 ] && echo 'key_mode = "0640"' )
reload = ["$WORK/reload", "node$n", "$WORK/node$n"]
TOML
done
sed -i "s|^fullchain = \"node|fullchain = \"$WORK/node|; s|^key = \"node|key = \"$WORK/node|" "$WORK/plan.toml"
PLAN="$WORK/plan.toml"
ENDPOINTS="$C $((C + 1)) $((C + 2)) $((C + 3))"
all_serve() {  # all_serve SHA: every endpoint serves it (by s_client)
  local p
  for p in $ENDPOINTS; do assert_eq "$(served $p)" "$1" "endpoint $p"; done
}
fleet_files() { sha256sum "$WORK"/node*/ssl/* "$WORK/canary/"*.pem "$WORK/monit/site.conf"; }
all_serve "$OLD"
ORIGINAL=$(fleet_files)

# --- bad plans are refused naming the line, before anything runs
sed 's|reload = \["\$WORK/reload", "node2"|reload = ["relaod-nginx", "node2"|' "$PLAN" > "$WORK/bad1.toml"
sed -i "s|\[\"$WORK/reload\", \"node2\"|[\"relaod-nginx\", \"node2\"|" "$WORK/bad1.toml"
rc=0; ck rollout apply "$WORK/bad1.toml" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "apply with a misspelt reload program"
grep -q "line .*reload program 'relaod-nginx' is not found" "$WORK/err" || fail "typo not named: $(cat "$WORK/err")"
sed 's/^verify_timeout = "10s"/verify_timeout = "10s"\nverfiy = true/' "$PLAN" > "$WORK/bad2.toml"
rc=0; ck rollout apply "$WORK/bad2.toml" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "apply with an unknown key"
grep -q "line .*verfiy" "$WORK/err" || fail "unknown key not named: $(cat "$WORK/err")"
rc=0; ck rollout apply "$PLAN" --stage canry 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "apply --stage with an unknown stage"
rc=0; ck rollout apply "$PLAN" --stage nodes 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "apply --stage nodes before the canary"
grep -q "stage canary comes before nodes" "$WORK/err" || fail "canary-first refusal: $(cat "$WORK/err")"
sed 's/^name = "node3"/name = "#pins"/' "$PLAN" > "$WORK/bad3.toml"
rc=0; ck rollout apply "$WORK/bad3.toml" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "a target named #pins"
assert_eq "$(fleet_files)" "$ORIGINAL" "files after refused plans"
[ ! -e "$WORK/hooks.log" ] || fail "a hook ran for a refused plan"
pass "bad plans refused before anything ran: $(head -c 120 "$WORK/err")"

# --- --check: check commands and probes only; files byte-identical, endpoints unchanged
# The key of "site" as an earlier version stored it (2,048 PBKDF2 iterations):
# a check opens it and stores nothing; the first real run stores it
# re-encrypted with 600,000.
site_key() { db_sql "SELECT key_pem FROM server_certs WHERE name = 'site' AND version = 2"; }
assert_eq "$(site_key | key_iterations)" 600000 "cert import: PBKDF2 iterations"
store_key_as_before server_certs "name = 'site' AND version = 2"
assert_eq "$(site_key | key_iterations)" 2048 "the key as stored before"
ck rollout apply "$PLAN" --check --json > "$WORK/check.json"
assert_eq "$(site_key | key_iterations)" 2048 "the server key after a check (nothing stored)"
assert_eq "$(json 'd["state"]' < "$WORK/check.json")" checked "check state"
assert_eq "$(json '",".join(s["state"] for s in d["steps"])' < "$WORK/check.json")" \
  "checked,checked,checked,checked" "check steps"
json 'd["steps"][1]["detail"]' < "$WORK/check.json" | grep -q "would change" \
  || fail "check should say node1's files would change: $(cat "$WORK/check.json")"
grep -q "checked " "$WORK/check.log" || fail "the check command did not run"
assert_eq "$(fleet_files)" "$ORIGINAL" "files after --check"
all_serve "$OLD"
[ ! -e "$WORK/hooks.log" ] || fail "--check ran a hook"
assert_eq "$(ck rollout status "$PLAN" --json | json 'd["state"]')" none "status after --check"
pass "--check: check command ran, nothing written, endpoints unchanged, no journal"

# --- node2's reload fails: the rollout stops there; node3 is untouched
touch "$WORK/fail-node2"
rc=0; ck -q rollout apply "$PLAN" > "$WORK/apply.out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "apply with a failing reload"
grep -q "^state: failed" "$WORK/apply.out" || fail "-q keeps a failed run's report: $(cat "$WORK/apply.out")"
assert_eq "$(site_key | key_iterations)" 600000 "the server key after the first real run opened it"
assert_eq "$(db_sql "SELECT subject || ': ' || detail FROM audit WHERE action = 'servercert.key.reencrypt'")" \
  "site: version 2, PBKDF2 iterations 2048 -> 600000" "audit entry"
head -1 "$WORK/err" | grep -q "^certkeeper: error: nodes/node2: reload '.*reload' exited with 1: nginx: \[emerg\] test failure on node2 (key \[secret\]" \
  || fail "failure message: $(cat "$WORK/err")"
grep -qF "$(openssl ec -in "$WORK/new.key" -outform DER 2>/dev/null | base64 -w0 | cut -c 1-40)" "$WORK/err" \
  && fail "the key as base64 DER in the error line: $(cat "$WORK/err")"
grep -q "rollout resume $PLAN" "$WORK/err" && grep -q "rollout rollback $PLAN" "$WORK/err" \
  || fail "no resume/rollback hint: $(cat "$WORK/err")"
ck rollout status "$PLAN" --json > "$WORK/status.json"
assert_eq "$(json 'd["state"]' < "$WORK/status.json")" failed "status state"
assert_eq "$(json '",".join(s["state"] for s in d["steps"])' < "$WORK/status.json")" \
  "verified,verified,failed,pending" "status steps"
assert_eq "$(served $C)" "$NEW" "canary after the failed apply"
assert_eq "$(served $((C + 1)))" "$NEW" "node1 after the failed apply"
assert_eq "$(served $((C + 2)))" "$OLD" "node2 (reload failed)"
assert_eq "$(served $((C + 3)))" "$OLD" "node3 (never touched)"
assert_eq "$(sha256sum < "$WORK/node3/ssl/fullchain.pem")" "$(cat "$WORK/old.pem" "$WORK/inter.pem" | sha256sum)" "node3's file"
grep -q "before $NEW" "$WORK/hooks.log" && grep -q "after failed" "$WORK/hooks.log" \
  || fail "hooks: $(cat "$WORK/hooks.log")"
ck rollout status "$PLAN" | grep -q "node2 .*failed .*reload" || fail "status text: $(ck rollout status "$PLAN")"
pass "failing reload: stopped at node2, node3 untouched, status shows it, hooks ran"

# The journal masks the key the canary's script printed, and keeps no key in clear.
json 'd["steps"][0]["output"]' < "$WORK/status.json" > "$WORK/canary.out"
grep -q "\[secret\]" "$WORK/canary.out" || fail "canary output not masked: $(cat "$WORK/canary.out")"
grep -q "PRIVATE KEY" "$WORK/canary.out" && fail "a key in the journal output"
SCALAR=$(openssl pkey -in "$WORK/new.key" -text -noout | sed -n '/^priv:/,/^pub:/p' | grep '^ ' | tr -d ' :\n')
[ ${#SCALAR} -ge 60 ] || fail "could not read the key's private scalar: $SCALAR"
tr -cd '0-9a-f' < "$WORK/canary.out" | grep -qF "${SCALAR: -40}" && fail "the key as pkey -text hex in the journal"
B64LINE=$(openssl ec -in "$WORK/new.key" -outform DER 2>/dev/null | base64 -w 76 | head -1)
grep -qF "$B64LINE" "$WORK/canary.out" && fail "the key as base64 DER (CRLF) in the journal"
KEYLINE=$(sed -n 2p "$WORK/new.key")
db_dump | grep -qF "$KEYLINE" && fail "the new key is in the database in clear"
db_sql "SELECT count(*) FROM rollout_steps WHERE backup_sealed" | grep -qx 2 \
  || fail "file backups should be sealed: $(db_sql "SELECT target, backup_sealed, length(backup) FROM rollout_steps")"
pass "journal: command output masked, file backups sealed, no key in clear"

# --- a second apply is refused while the rollout is stopped
rc=0; ck rollout apply "$PLAN" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "apply over a stopped rollout"
grep -q "stopped (failed" "$WORK/err" || fail "refusal: $(cat "$WORK/err")"

# --- fixed: resume re-verifies canary and node1, redeploys node2, then node3
rm "$WORK/fail-node2"
ck rollout resume "$PLAN" --json > "$WORK/resume.json"
assert_eq "$(json 'd["state"]' < "$WORK/resume.json")" done "resume state"
json 'd["steps"][1]["detail"]' < "$WORK/resume.json" | grep -q "verified again" \
  || fail "node1 should be verified again, not redeployed: $(cat "$WORK/resume.json")"
all_serve "$NEW"
ck verify "$PLAN" > /dev/null || fail "verify after resume should exit 0"
pass "resume: all four endpoints serve the new certificate (s_client), verify exits 0"

# Pins rewritten, the key cleaned up, the after hook told "done".
grep -q "certmd5 $(md5_hex "$WORK/new.pem") then" "$WORK/monit/site.conf" \
  || fail "certmd5 not rewritten: $(cat "$WORK/monit/site.conf")"
grep -q "$(md5_hex "$WORK/old.pem")" "$WORK/monit/site.conf" && fail "old certmd5 left"
[ ! -e "$WORK/secure/site.key" ] || fail "cleanup left the key file"
grep -q "after done" "$WORK/hooks.log" || fail "after hook: $(cat "$WORK/hooks.log")"
for n in 1 2 3; do
  assert_eq "$(stat -c %a "$WORK/node$n/ssl/fullchain.pem")" 644 "node$n fullchain mode"
done
assert_eq "$(stat -c %a "$WORK/node1/ssl/key.pem")" 640 "node1 key mode (key_mode 0640)"
assert_eq "$(stat -c %a "$WORK/node3/ssl/key.pem")" 600 "node3 key mode (mode 0644 is for certificates)"
pass "pins: monit certmd5 rewritten; cleanup: key overwritten and removed; certificates 0644, keys 0600 unless key_mode"

# verify and status still work with the local key gone
ck verify "$PLAN" --json | json 'd["aligned"]' | grep -qx 4 || fail "verify after cleanup"
ck rollout status "$PLAN" | grep -q "state: done" || fail "status after cleanup"

# --- ca passphrase change: the journal's sealed backups and both versions of
# the site key move to the new passphrase (the rollback below opens them)
[ "$(db_sql "SELECT count(*) FROM rollout_steps WHERE backup_sealed AND length(backup) > 0")" -gt 0 ] \
  || fail "no sealed backup in the journal to re-seal"
( umask 077; echo "the rollout test's second passphrase" > "$WORK/new.pass" )
ck ca passphrase change --new-passphrase-file "$WORK/new.pass" --json > "$WORK/change.json"
assert_eq "$(json 'd["server_keys"]' < "$WORK/change.json")" 2 "server key versions re-encrypted"
[ "$(json 'd["rollout_backups"]' < "$WORK/change.json")" -gt 0 ] || fail "no backup re-sealed: $(cat "$WORK/change.json")"
expect_error "rollback with the old passphrase" "wrong passphrase" -- ck rollout rollback "$PLAN"
expect_error "rollback --check with the old passphrase" "wrong passphrase" -- ck rollout rollback "$PLAN" --check
export CERTKEEPER_CA_PASSPHRASE="the rollout test's second passphrase"
pass "ca passphrase change: server keys and sealed rollout backups re-encrypted; the old passphrase opens nothing"

# --- rollback --check: every decision of a rollback (each sealed backup
# opened), what each target would get back, what it serves now; no change.
rb_state() { db_dump; fleet_files; cat "$WORK/hooks.log"; find "$H" -type f ! -name 'certkeeper.db-*' | sort; }
before=$(rb_state)
ck rollout rollback "$PLAN" --check > "$WORK/rbcheck.out" || fail "rollback --check: $(cat "$WORK/rbcheck.out")"
assert_eq "$(rb_state)" "$before" "rollback --check changes nothing (store, files, hooks, home)"
grep -q "^check of $PLAN (nothing written, no endpoint changed)" "$WORK/rbcheck.out" \
  || fail "rollback --check header: $(cat "$WORK/rbcheck.out")"
grep -q "nodes/node1 .* checked .*node1/ssl/fullchain.pem would be put back.*then serves .*127.0.0.1:$((C + 1))@site.example.test serves new" \
  "$WORK/rbcheck.out" || fail "rollback --check: node1: $(cat "$WORK/rbcheck.out")"
grep -q "pins: 1 file(s) the rollout edited would be put back (not done)" "$WORK/rbcheck.out" \
  || fail "rollback --check: pins: $(cat "$WORK/rbcheck.out")"
all_serve "$NEW"
pass "rollback --check: each target's backup opened and named, endpoints probed; store, files and hooks unchanged"

# --- rollback: every endpoint serves the old certificate again, files byte-identical
ck -q rollout rollback "$PLAN" > "$WORK/rollback.out" || fail "rollback: $(cat "$WORK/rollback.out")"
[ ! -s "$WORK/rollback.out" ] || fail "rollback -q printed: $(cat "$WORK/rollback.out")"
all_serve "$OLD"
# the canary's files were rewritten by its script (same certificate, new bytes); the nodes' are exact
assert_eq "$(fleet_files | grep -v canary)" "$(echo "$ORIGINAL" | grep -v canary)" \
  "node files and pin after rollback"
assert_eq "$(ck rollout status "$PLAN" --json | json 'd["state"]')" rolled-back "state after rollback"
rc=0; ck verify "$PLAN" > /dev/null || rc=$?
assert_eq "$rc" 3 "verify after rollback"
rc=0; ck rollout rollback "$PLAN" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "a second rollback"
pass "rollback: all endpoints serve the old certificate (s_client), node files and pin byte-identical"

# --- a node that "succeeds" but still serves the old certificate is caught
touch "$WORK/noop-node1"
rc=0; ck rollout apply "$PLAN" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "apply with a reload that does nothing"
head -1 "$WORK/err" | grep -q "nodes/node1: not serving the new certificate after 3s: 127.0.0.1:$((C + 1))@site.example.test serves the old certificate" \
  || fail "stale node message: $(cat "$WORK/err")"
assert_eq "$(served $((C + 2)))" "$OLD" "node2 untouched after node1's failure"
ck rollout rollback "$PLAN" > /dev/null || fail "rollback after the stale node"
all_serve "$OLD"
pass "verification catches a node still serving the old certificate; rollback after it"

# --- --stage: the canary alone first (partial), then the rest continues the same rollout
rm "$WORK/noop-node1"
ck rollout apply "$PLAN" --stage canary --json > "$WORK/stage.json"
assert_eq "$(json 'd["state"]' < "$WORK/stage.json")" partial "state after --stage canary"
assert_eq "$(served $C)" "$NEW" "canary after --stage canary"
assert_eq "$(served $((C + 1)))" "$OLD" "node1 after --stage canary"
ID=$(json 'd["rollout"]' < "$WORK/stage.json")
ck rollout apply "$PLAN" --json > "$WORK/rest.json"
assert_eq "$(json 'd["state"]' < "$WORK/rest.json")" done "state after the rest"
assert_eq "$(json 'd["rollout"]' < "$WORK/rest.json")" "$ID" "the same rollout continued"
json 'd["steps"][0]["detail"]' < "$WORK/rest.json" | grep -q "verified again" \
  || fail "the canary should be verified again, not redeployed"
all_serve "$NEW"
grep -q "certmd5 $(md5_hex "$WORK/new.pem") then" "$WORK/monit/site.conf" || fail "pin after --stage runs"
pass "--stage canary, then the rest: one rollout, canary not redeployed, all aligned"

# --- certkeeper killed (-9) in the middle of node1's reload: the journal has it; rollback restores
ck rollout rollback "$PLAN" > /dev/null || fail "rollback before the crash case"
all_serve "$OLD"
BEFORE=$(fleet_files | grep -v canary)
touch "$WORK/slow-node1"
"$CK_BIN" --home "$H" rollout apply "$PLAN" > /dev/null 2>&1 &
APPLY=$!
for _ in $(seq 100); do [ -s "$WORK/reloading-node1" ] && break; sleep 0.1; done
[ -s "$WORK/reloading-node1" ] || fail "the slow reload did not start"
expect_error "apply while another runs the plan" "another certkeeper is running a rollout" -- \
  ck rollout apply "$PLAN"
kill -9 $APPLY; wait $APPLY 2>/dev/null || true
kill "$(cat "$WORK/reloading-node1")" 2>/dev/null || true
rm "$WORK/slow-node1"
ck rollout status "$PLAN" --json > "$WORK/crash.json"
assert_eq "$(json 'd["state"]' < "$WORK/crash.json")" running "state after a crash"
assert_eq "$(json 'd["steps"][1]["state"]' < "$WORK/crash.json")" deploying "node1's step after a crash"
json 'd["failure"]' < "$WORK/crash.json" | grep -q interrupted || fail "status should say interrupted"
rc=0; ck rollout apply "$PLAN" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "apply after a crash"
ck rollout rollback "$PLAN" > /dev/null || fail "rollback after a crash"
all_serve "$OLD"
assert_eq "$(fleet_files | grep -v canary)" "$BEFORE" "node files after a crash and rollback"
pass "killed mid-reload: journal says deploying/running, apply refuses, rollback restores the exact files"

# --- a canary verified once, then changed behind certkeeper's back: probed, not redeployed
ck rollout apply "$PLAN" --stage canary > /dev/null || fail "apply --stage canary"
"$WORK/deploy-canary" "$WORK/old.pem" "$WORK/old.key" "$WORK/inter.pem" > /dev/null; wait_port $C
rc=0; ck rollout apply "$PLAN" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "apply over a canary that no longer serves the new certificate"
head -1 "$WORK/err" | grep -q "canary/canary (deployed earlier): not serving the new certificate" \
  || fail "reverify message: $(cat "$WORK/err")"
assert_eq "$(ck rollout status "$PLAN" --json | json 'd["steps"][0]["state"]')" reverify-failed "canary step"
assert_eq "$(served $((C + 1)))" "$OLD" "node1 untouched after the canary's re-check failed"
rc=0; ck rollout resume "$PLAN" --stage nodes 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "resume --stage nodes past a canary that is not verified"
grep -q "stage canary comes before nodes" "$WORK/err" || fail "refusal: $(cat "$WORK/err")"
ck rollout rollback "$PLAN" > /dev/null || fail "rollback after the re-check"
all_serve "$OLD"
pass "a verified target that changed since is caught, not redeployed, and blocks later stages"

# --- parallel = 3: the three nodes' reloads overlap (every start logged before any end)
sed 's/^parallel = 1$/parallel = 3/' "$PLAN" > "$WORK/parallel.toml"
grep -q "^parallel = 3" "$WORK/parallel.toml" || fail "parallel plan"
echo -n > "$WORK/log-reloads"
ck rollout apply "$WORK/parallel.toml" > /dev/null || fail "apply with parallel = 3"
all_serve "$NEW"
assert_eq "$(head -3 "$WORK/log-reloads" | cut -d' ' -f1 | sort -u)" start "the first three reload events"
pass "parallel = 3: the nodes were deployed at once ($(tr '\n' ' ' < "$WORK/log-reloads"))"

# --- refusals: one line, exit 1, the store unchanged
cp "$PLAN" "$WORK/fresh.toml"
expect_error "resume without a rollout" "no rollout of" -- ck rollout resume "$WORK/fresh.toml"
expect_error "rollback without a rollout" "no rollout of" -- ck rollout rollback "$WORK/fresh.toml"
expect_error "resume of a rolled-back rollout" "nothing to resume" -- ck rollout resume "$PLAN"
cp "$WORK/parallel.toml" "$WORK/parallel.full"
/usr/bin/python3 - "$WORK/parallel.toml" <<'PY'
import re, sys
p = sys.argv[1]; s = open(p).read()
s = re.sub(r'\[\[stage\.target\]\]\nname = "node3".*', '', s, flags=re.S)
open(p, "w").write(s)
PY
expect_error "rollback of a target the plan lost" 'no longer has; put it back' -- \
  ck rollout rollback "$WORK/parallel.toml"
mv "$WORK/parallel.full" "$WORK/parallel.toml"
ck rollout apply "$PLAN" --stage canary > /dev/null || fail "apply --stage canary before a renewal"
leaf newer "DNS:site.example.test,IP:127.0.0.1"
ck cert import --cert "$WORK/newer.pem" --key "$WORK/newer.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
expect_error "resume after the certificate was renewed" "certificate changed since rollout" -- \
  ck rollout resume "$PLAN"
expect_error "apply of a renewal over a half-done rollout" "is half done" -- ck rollout apply "$PLAN"
pass "refusals: no rollout, nothing to resume, a lost target, a renewal in between, a running apply"
