#!/bin/bash
# `verify PLAN` and `rollout plan PLAN` against real TLS servers (openssl
# s_server) serving the plan's certificate, the one it replaces, another one,
# or nothing, each with its intermediate (the plan's ca_file is the root);
# what each serves is cross-checked with `openssl s_client`. Chains a client
# refuses: rollout_chain.sh. Bad plans are refused naming the line, before
# anything runs.
. "$(dirname "$0")/lib.sh" "$1"

test_pki
leaf old DNS:site.example.test
leaf new DNS:site.example.test
leaf other DNS:other.example.test
ck ca init --name "Test CA" > /dev/null 2>&1
ck cert import --cert "$WORK/old.pem" --key "$WORK/old.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
ck cert import --cert "$WORK/new.pem" --key "$WORK/new.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1

serve() {  # serve PORT NAME: openssl s_server with NAME's certificate and chain on 127.0.0.1:PORT
  openssl s_server -accept "127.0.0.1:$1" -cert "$WORK/$2.pem" -key "$WORK/$2.key" \
    -cert_chain "$WORK/inter.pem" -www -quiet > "$WORK/s_server.$1.log" 2>&1 &
  CLEANUP_CMDS+=("stop_server $!")
}
P=17411
serve $P new; serve $((P + 1)) old; serve $((P + 2)) other
for port in $P $((P + 1)) $((P + 2)); do
  for _ in $(seq 50); do
    openssl s_client -connect "127.0.0.1:$port" < /dev/null > /dev/null 2>&1 && break; sleep 0.1
  done
done
served_sha256() {  # the fingerprint an endpoint serves, by openssl s_client
  openssl s_client -connect "127.0.0.1:$1" -servername site.example.test < /dev/null 2>/dev/null \
    | openssl x509 -outform DER | openssl sha256 -r | cut -d' ' -f1
}

cat > "$WORK/plan.toml" <<TOML
[certificate]
name = "site"
ca_file = "root.pem"

[[hook]]
when = "before"
command = ["true", "maintenance", "start"]

[[pin]]
paths = ["monit/*.conf"]
algorithm = "md5"
format = "HEX"

[[stage]]
name = "canary"
[[stage.target]]
name = "irc"
endpoints = ["127.0.0.1:$P@site.example.test"]
[stage.target.deploy]
kind = "command"
command = ["deploy-irc", "{{fullchain_file}}"]

[[stage]]
name = "nodes"
parallel = 2
[[stage.target]]
name = "node1"
endpoints = ["127.0.0.1:$((P + 1))@site.example.test", "127.0.0.1:$((P + 2))"]
[stage.target.deploy]
kind = "files"
fullchain = "node1/fullchain.pem"
key = "node1/key.pem"
reload = ["nginx", "-s", "reload"]
[[stage.target]]
name = "node2"
endpoints = ["127.0.0.1:$((P + 3))"]
[stage.target.deploy]
kind = "files"
cert = "node2/cert.pem"
TOML

# --- verify: one endpoint per kind of answer; exit 3 because not all are aligned
rc=0; ck verify "$WORK/plan.toml" --timeout 2s --json > "$WORK/verify.json" || rc=$?
assert_eq "$rc" 3 "verify exit code with unaligned endpoints"
assert_eq "$(json '",".join(e["serves"] for e in d["endpoints"])' < "$WORK/verify.json")" \
  "new,old,other,failed" "what each endpoint serves"
assert_eq "$(json 'd["aligned"]' < "$WORK/verify.json")" 1 "aligned count"
assert_eq "$(json 'd["endpoints"][0]["sha256"]' < "$WORK/verify.json")" "$(served_sha256 $P)" \
  "sha256 of the aligned endpoint (openssl s_client)"
assert_eq "$(json 'd["endpoints"][1]["sha256"]' < "$WORK/verify.json")" "$(served_sha256 $((P + 1)))" \
  "sha256 of the old endpoint (openssl s_client)"
assert_eq "$(json 'd["certificate"]["sha256"]' < "$WORK/verify.json")" \
  "$(openssl x509 -in "$WORK/new.pem" -outform DER | openssl sha256 -r | cut -d' ' -f1)" "plan certificate"
pass "verify: new, old, other and unreachable endpoints told apart; exit 3"

rc=0; ck verify "$WORK/plan.toml" --stage canary > "$WORK/verify.txt" || rc=$?
assert_eq "$rc" 0 "verify --stage canary (aligned)"
client_accepts $P site.example.test || fail "s_client refused the canary: $(cat "$WORK/s_client.log")"
grep -q "^1 of 1 endpoints aligned$" "$WORK/verify.txt" || fail "verify text: $(cat "$WORK/verify.txt")"
pass "verify --stage: only that stage; exit 0 when aligned"

# --- a hostile endpoint costs only itself: one flooding HelloRequest records
# (which OpenSSL skips in a loop) ends within the timeout + 1 s, the good
# endpoint in the same plan is still aligned.
start_server HOSTILE "$WORK/hostile" -- /usr/bin/python3 "$(dirname "$0")/hostile_server.py" "$WORK/hostile" \
  "$WORK/new.pem" "$WORK/new.key" "$WORK/new.pem"
flood_port=$(awk '$1 == "flood_hello_request" { print $2 }' "$WORK/hostile/ports")
cat > "$WORK/flood.toml" <<TOML
[certificate]
name = "site"
ca_file = "root.pem"
[[stage]]
name = "a"
[[stage.target]]
name = "t"
endpoints = ["127.0.0.1:$flood_port@site.example.test", "127.0.0.1:$P@site.example.test"]
[stage.target.deploy]
kind = "command"
command = ["x"]
TOML
rc=0; started_ns=$(date +%s%N)
# `timeout`: a scanner that stalls fails this test instead of hanging it.
timeout 20 "$CK_BIN" --home "$H" verify "$WORK/flood.toml" --timeout 2s --json > "$WORK/verify.json" || rc=$?
took_ms=$(( ($(date +%s%N) - started_ns) / 1000000 ))
[ "$took_ms" -le 3000 ] || fail "verify with a flooding endpoint took $took_ms ms with --timeout 2s (exit $rc)"
assert_eq "$rc" 3 "verify exit code with a flooding endpoint"
assert_eq "$(json '",".join(e["serves"] for e in d["endpoints"]), d["aligned"]' < "$WORK/verify.json")" \
  "('failed,new', 1)" "the flooding endpoint failed, the good one aligned"
pass "verify: a HelloRequest flood ends within the timeout + 1 s ($took_ms ms)"

# --- rollout plan: every step in order with what each endpoint serves now
ck rollout plan "$WORK/plan.toml" --timeout 2s > "$WORK/plan.txt"
grep -q "^1. hook before: true maintenance start" "$WORK/plan.txt" || fail "plan: hook: $(cat "$WORK/plan.txt")"
grep -q "^2. stage canary (1 target, 1 at a time)" "$WORK/plan.txt" || fail "plan: canary stage"
grep -q "verify 127.0.0.1:$((P + 1))@site.example.test (now serves old" "$WORK/plan.txt" || fail "plan: old endpoint"
grep -q "^3. stage nodes (2 targets, 2 at a time)" "$WORK/plan.txt" || fail "plan: nodes stage"
grep -q "^4. pins (md5): monit/\*.conf (0 files)" "$WORK/plan.txt" || fail "plan: pins: $(cat "$WORK/plan.txt")"
pass "rollout plan lists hooks, stages, targets, deploy steps, pins and current state"

# --- bad plans: refused with the line named, nothing probed
bad() {  # bad NAME NEEDLE: writes $WORK/bad.toml from stdin and expects the error
  cat > "$WORK/bad.toml"
  expect_error "$1" "$2" -- ck verify "$WORK/bad.toml"
}
# A certificate, one stage "a" and its target "t" with ENDPOINT, deploying by command.
one_target() {
  printf '[certificate]\nname = "%s"\n[[stage]]\nname = "a"\n[[stage.target]]\nname = "t"\n' "$2"
  printf 'endpoints = ["%s"]\n[stage.target.deploy]\nkind = "command"\ncommand = ["x"]\n' "$1"
}
bad "unknown key" "'$WORK/bad.toml' line 7: unknown key 'stage.target.endpoint'" <<'TOML'
[certificate]
name = "site"
[[stage]]
name = "a"
[[stage.target]]
name = "t"
endpoint = ["x:1"]
TOML
bad "stage without targets" "line 3: stage \"empty\" has no [[stage.target]]" <<'TOML'
[certificate]
name = "site"
[[stage]]
name = "empty"
TOML
one_target www.example.test site | bad "endpoint without port" "endpoint 'www.example.test' needs a port"
bad "missing certificate" "no [certificate]" <<'TOML'
[[stage]]
name = "a"
TOML
one_target 127.0.0.1:1 nope | bad "unknown stored certificate" "no server certificate named 'nope'"
{ one_target 127.0.0.1:1 site; echo 'reload = ["y"]'; } |
  bad "deploy key of the other kind" "'stage.target.deploy.reload' does not belong to kind = \"command\""
bad "TOML syntax" "'$WORK/bad.toml' line 2" <<'TOML'
[certificate]
name = site
TOML
expect_error "missing plan file" "$WORK/none.toml" -- ck verify "$WORK/none.toml"
pass "bad plans refused naming the line: unknown key, empty stage, endpoint without port, no certificate, unknown name, foreign deploy key, syntax, missing file"
