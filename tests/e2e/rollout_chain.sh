#!/bin/bash
# "Verified" means a client can validate it. The plan's certificate comes from
# an intermediate under a test root; openssl s_server and nginx serve it with
# that intermediate, without it, or under another name. `verify`, `rollout
# plan` and `rollout apply` must call an endpoint aligned only when a client
# trusting the root accepts it, which `openssl s_client -verify_return_error`
# checks independently for every case.
. "$(dirname "$0")/lib.sh" "$1"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/install-deps.sh)"
on_fail() { cat "$WORK/out" "$WORK/err" 2>/dev/null; tail -3 "$WORK/nginx/logs/error.log" 2>/dev/null; }

test_pki
leaf old "DNS:site.example.test,IP:127.0.0.1"
leaf new "DNS:site.example.test,IP:127.0.0.1"
ck ca init --name "Test CA" > /dev/null 2>&1
ck cert import --cert "$WORK/old.pem" --key "$WORK/old.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
ck cert import --cert "$WORK/new.pem" --key "$WORK/new.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
NEW=$(openssl x509 -in "$WORK/new.pem" -outform DER | openssl sha256 -r | cut -d' ' -f1)

# Port P: the new leaf alone (its intermediate left out); P+1: leaf and intermediate.
P=17440
openssl s_server -accept "127.0.0.1:$P" -cert "$WORK/new.pem" -key "$WORK/new.key" -www -quiet \
  > "$WORK/leafonly.log" 2>&1 &
CLEANUP_CMDS+=("stop_server $!")
openssl s_server -accept "127.0.0.1:$((P + 1))" -cert "$WORK/new.pem" -key "$WORK/new.key" \
  -cert_chain "$WORK/inter.pem" -www -quiet > "$WORK/full.log" 2>&1 &
CLEANUP_CMDS+=("stop_server $!")
for port in $P $((P + 1)); do
  for _ in $(seq 50); do
    openssl s_client -connect "127.0.0.1:$port" < /dev/null > /dev/null 2>&1 && break; sleep 0.1
  done
done

# plan ENDPOINT [TARGET LINES] [CERTIFICATE LINES] [DEPLOY LINES]: a plan with
# one target "t" (deployed by `true` unless DEPLOY LINES say otherwise) on stdout.
plan() {
  printf '[certificate]\nname = "site"\n%s\n' "${3:-}"
  printf '[[stage]]\nname = "web"\n[[stage.target]]\nname = "t"\nendpoints = ["%s"]\n%s\n' "$1" "${2:-}"
  printf '[stage.target.deploy]\n%s\n' "${4:-kind = \"command\"
command = [\"true\"]}"
}
verify_json() {  # verify_json PLAN ARGS...: `verify --json` into $WORK/out; sets RC
  RC=0; ck verify "$@" --json > "$WORK/out" 2> "$WORK/err" || RC=$?
}
ep() { json "d['endpoints'][0]['$1']" < "$WORK/out"; }

# --- the new leaf without its intermediate: not aligned, OpenSSL's reason shown
plan "127.0.0.1:$P@site.example.test" > "$WORK/leafonly.toml"
client_accepts $P site.example.test && fail "s_client accepted a chain without its intermediate"
grep -q "unable to get local issuer certificate" "$WORK/s_client.log" || fail "s_client: $(cat "$WORK/s_client.log")"
verify_json "$WORK/leafonly.toml" --ca-file "$WORK/root.pem"
assert_eq "$RC" 3 "verify exit code, leaf without its intermediate"
assert_eq "$(ep serves),$(ep sha256),$(ep aligned)" "new,$NEW,False" "leaf without its intermediate"
assert_eq "$(ep chain)" "unable to get local issuer certificate" "chain result in --json"
assert_eq "$(json 'd["aligned"]' < "$WORK/out")" 0 "aligned count"
rc=0; ck verify "$WORK/leafonly.toml" --ca-file "$WORK/root.pem" > "$WORK/out" || rc=$?
assert_eq "$rc" 3 "verify exit code (table)"
grep -q "127.0.0.1:$P@site.example.test .*new .*unable to get local issuer certificate" "$WORK/out" \
  || fail "table row: $(cat "$WORK/out")"
grep -q "^0 of 1 endpoints aligned; 1 serves the plan's certificate, but a client refuses it" "$WORK/out" \
  || fail "table summary: $(cat "$WORK/out")"
pass "leaf without its intermediate: not aligned, exit 3, OpenSSL's reason shown; s_client refuses it too"

# --- the same endpoint behind a client that adds the chain: verify_chain = false
plan "127.0.0.1:$P@site.example.test" "verify_chain = false" > "$WORK/optout.toml"
verify_json "$WORK/optout.toml" --ca-file "$WORK/root.pem"
assert_eq "$RC" 0 "verify exit code, verify_chain = false"
assert_eq "$(ep chain),$(ep name),$(ep aligned)" "skipped,ok,True" "verify_chain = false"
pass "verify_chain = false: the chain is not checked (\"skipped\"), the leaf and name are; aligned"

# --- leaf and intermediate: aligned, and s_client agrees
plan "127.0.0.1:$((P + 1))@site.example.test" > "$WORK/full.toml"
client_accepts $((P + 1)) site.example.test || fail "s_client refused the full chain: $(cat "$WORK/s_client.log")"
verify_json "$WORK/full.toml" --ca-file "$WORK/root.pem"
assert_eq "$RC" 0 "verify exit code, full chain"
assert_eq "$(ep chain),$(ep name),$(ep aligned)" "ok,ok,True" "full chain"
pass "leaf with its intermediate: aligned, exit 0; s_client accepts it"

# --- the name in the endpoint's SNI is not the certificate's
plan "127.0.0.1:$((P + 1))@www.example.test" > "$WORK/name.toml"
client_accepts $((P + 1)) www.example.test && fail "s_client accepted another name"
verify_json "$WORK/name.toml" --ca-file "$WORK/root.pem"
assert_eq "$RC" 3 "verify exit code, name mismatch"
assert_eq "$(ep serves),$(ep chain),$(ep name),$(ep aligned)" "new,ok,mismatch,False" "name mismatch"
pass "SNI www.example.test for a certificate of site.example.test: not aligned; s_client refuses it too"

# --- trust anchors: the plan's [certificate] ca_file; --ca-file instead; else the system store
plan "127.0.0.1:$((P + 1))@site.example.test" "" 'ca_file = "root.pem"' > "$WORK/ca.toml"
verify_json "$WORK/ca.toml"
assert_eq "$RC,$(ep chain)" "0,ok" "the plan's ca_file"
verify_json "$WORK/full.toml"
assert_eq "$RC,$(ep chain)" "3,unable to get local issuer certificate" "the system store (no ca_file)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=another root" \
  -keyout "$WORK/other-root.key" -out "$WORK/other-root.pem" 2>/dev/null
verify_json "$WORK/ca.toml" --ca-file "$WORK/other-root.pem"
assert_eq "$RC,$(ep chain)" "3,unable to get local issuer certificate" "--ca-file over the plan's ca_file"
pass "trust anchors: the plan's ca_file, --ca-file in its place, else the system store"

# An intermediate in the CA file is no trust anchor: a client that trusts the
# root refuses a server that leaves the intermediate out, and so does verify.
cat "$WORK/inter.pem" "$WORK/root.pem" > "$WORK/inter-and-root.pem"
plan "127.0.0.1:$P@site.example.test" "" 'ca_file = "inter-and-root.pem"' > "$WORK/both.toml"
verify_json "$WORK/both.toml"
assert_eq "$RC,$(ep chain)" "3,unable to get local issuer certificate" "an intermediate in ca_file"
expect_error "a ca_file of intermediates only" "holds no root (self-signed) certificate" -- \
  ck verify "$WORK/ca.toml" --ca-file "$WORK/inter.pem"
pass "only the CA file's roots are trust anchors"

# --- rollout plan: "now serves" says the same
{ plan "127.0.0.1:$P@site.example.test" "" 'ca_file = "root.pem"'
  printf '[[stage.target]]\nname = "u"\nendpoints = ["127.0.0.1:%s@site.example.test"]\n' $((P + 1))
  printf '[stage.target.deploy]\nkind = "command"\ncommand = ["true"]\n'; } > "$WORK/two.toml"
ck rollout plan "$WORK/two.toml" > "$WORK/out"
grep -qF "verify 127.0.0.1:$P@site.example.test (now serves new ${NEW:0:12}, not aligned: chain: unable to get local issuer certificate)" \
  "$WORK/out" || fail "rollout plan, leaf only: $(cat "$WORK/out")"
grep -qF "verify 127.0.0.1:$((P + 1))@site.example.test (now serves new ${NEW:0:12})" "$WORK/out" \
  || fail "rollout plan, full chain: $(cat "$WORK/out")"
grep -q "^1 of 2 endpoints already aligned" "$WORK/out" || fail "rollout plan summary: $(cat "$WORK/out")"
pass "rollout plan: the endpoint without its intermediate is not counted as serving the plan's certificate"

# --- bad input: one line, exit 1, nothing changed
plan "127.0.0.1:$P@site.example.test" "" 'ca_file = "none.pem"' > "$WORK/bad.toml"
expect_error "a ca_file that is not there" "'$WORK/bad.toml' line 3: ca_file: cannot read CA file '$WORK/none.pem'" -- \
  ck verify "$WORK/bad.toml"
expect_error "apply with a ca_file that is not there" "line 3: ca_file" -- ck rollout apply "$WORK/bad.toml"
echo "not a certificate" > "$WORK/junk.pem"
plan "127.0.0.1:$P@site.example.test" "" 'ca_file = "junk.pem"' > "$WORK/bad.toml"
expect_error "a ca_file without certificates" "holds no usable certificate" -- ck rollout apply "$WORK/bad.toml"
plan "127.0.0.1:$P@site.example.test" 'verify_chain = "no"' > "$WORK/bad.toml"
expect_error "verify_chain not a boolean" "'$WORK/bad.toml' line 9: 'stage.target.verify_chain'" -- \
  ck verify "$WORK/bad.toml"
expect_error "--ca-file that is not there" "$WORK/none.pem" -- \
  ck rollout apply "$WORK/full.toml" --ca-file "$WORK/none.pem"
assert_eq "$(ck rollout status "$WORK/full.toml" --json | json 'd["state"]')" none "no rollout after refusals"
pass "bad trust anchors and verify_chain refused: one line, exit 1, store unchanged"

# --- rollout apply: nginx pointed at the certificate alone (the classic mistake)
N="$WORK/nginx"; mkdir -p "$N/logs" "$N/tmp" "$N/ssl"
cat "$WORK/old.pem" "$WORK/inter.pem" > "$N/ssl/site.pem"; cp "$WORK/old.key" "$N/ssl/site.key"
for attempt in 1 2 3 4 5; do
  NP=$(( 20000 + RANDOM % 12000 ))
  nginx_tls_conf "$N" $NP "$N/ssl/site.pem" "$N/ssl/site.key"
  launch_nginx "$N" "$WORK/root.pem" "https://127.0.0.1:$NP/" && break
  [ "$attempt" = 5 ] && fail "nginx did not start: $(cat "$N/logs/error.log")"
done
client_accepts $NP site.example.test || fail "s_client should accept the old full chain"
apply_plan() {  # apply_plan KEY: a files target writing KEY (cert or fullchain) to nginx's file
  plan "127.0.0.1:$NP@site.example.test" 'verify_timeout = "2s"' 'ca_file = "root.pem"' \
    "$(printf 'kind = "files"\n%s = "%s"\nkey = "%s"\n' "$1" "$N/ssl/site.pem" "$N/ssl/site.key")
reload = [\"nginx\", \"-p\", \"$N\", \"-c\", \"$N/nginx.conf\", \"-s\", \"reload\"]"
}
apply_plan cert > "$WORK/apply.toml"
rc=0; ck rollout apply "$WORK/apply.toml" > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "apply that leaves nginx serving the leaf alone"
head -1 "$WORK/err" | grep -q "^certkeeper: error: web/t: .*127.0.0.1:$NP@site.example.test serves the new certificate, but a client refuses it: chain: unable to get local issuer certificate" \
  || fail "apply message: $(cat "$WORK/err")"
ck rollout status "$WORK/apply.toml" --json > "$WORK/status.json"
assert_eq "$(json 'd["state"]' < "$WORK/status.json")" failed "rollout state"
assert_eq "$(json 'd["steps"][0]["state"]' < "$WORK/status.json")" failed "the target's step (not verified)"
client_accepts $NP site.example.test && fail "s_client accepted what nginx serves after the broken apply"
grep -q "unable to get local issuer certificate" "$WORK/s_client.log" || fail "s_client: $(cat "$WORK/s_client.log")"
served=$(openssl s_client -connect "127.0.0.1:$NP" -servername site.example.test < /dev/null 2>/dev/null \
  | openssl x509 -outform DER | openssl sha256 -r | cut -d' ' -f1)
assert_eq "$served" "$NEW" "nginx serves the new leaf (deployed, without its intermediate)"
pass "apply: a target serving the new leaf without its intermediate fails (exit 1, step failed, not verified)"

# Fixed plan (the full chain into nginx's file): resume deploys it again and verifies it.
apply_plan fullchain > "$WORK/apply.toml"
ck rollout resume "$WORK/apply.toml" --json > "$WORK/out" || fail "resume with the full chain"
assert_eq "$(json 'd["state"]' < "$WORK/out"),$(json 'd["steps"][0]["state"]' < "$WORK/out")" \
  "done,verified" "resume with the full chain"
client_accepts $NP site.example.test || fail "s_client refused the full chain: $(cat "$WORK/s_client.log")"
ck verify "$WORK/apply.toml" > /dev/null || fail "verify after the fixed rollout"
pass "resume with the full chain: verified, done; s_client accepts it; verify exits 0"
