#!/bin/bash
# `certkeeper serve`: /metrics over a store with every kind of client
# certificate, a CRL, a server certificate, a rollout plan whose endpoints
# (real nginx) are aligned, stale or down, and a targets file. The scrape is
# checked by promtool and parsed by prom_text.py (never grepped); each value
# is compared with what openssl, stat and the store say. Then: a store change
# shows without a restart, /healthz goes 503 when the store file becomes
# unreadable, SIGTERM under load exits 0 within 5 s, and the TLS listener
# (client_ca) and the loopback rule.
. "$(dirname "$0")/lib.sh" "$1"
HERE="$(cd "$(dirname "$0")" && pwd)"
for t in nginx promtool curl; do
  command -v $t >/dev/null || fail "$t is not installed (scripts/install-deps.sh)"
done
PT() { /usr/bin/python3 "$HERE/prom_text.py" "$@"; }
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
epoch_of() { date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s; }
get() { PT "$WORK/m.txt" get "$@"; }

# --- the store --------------------------------------------------------------
mkdir -p "$H" "$WORK/pub"
cat > "$WORK/publish" <<'SH'
#!/bin/sh
[ -e "$(dirname "$0")/publish-fails" ] && { echo "rsync: connection refused" >&2; exit 2; }
exit 0
SH
chmod +x "$WORK/publish"
cat > "$H/certkeeper.toml" <<TOML
[crl]
out = "$WORK/pub/ca.crl"
publish_command = ["$WORK/publish", "{{crl_file}}"]
TOML
# The CA is 40 days old, so a certificate made 30 days ago (erin) can have expired.
FAKETIME=-40d LD_PRELOAD=$FAKETIME_LIB "$CK_BIN" --home "$H" ca init --name "E2E CA" --no-passphrase > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
mkuser() { ck user create "$1" --cn "$1" --email "$1@example.org" --out "$WORK/old" --password-file "$WORK/$1.pw" "${@:2}" > /dev/null; }
mkuser alice
mkuser bob
ck user renew bob --out "$WORK/new" --password-file "$WORK/bob.pw2" > /dev/null     # bob's old: held
mkuser carol
ck user revoke carol --reason keyCompromise > /dev/null                               # revoked
mkuser dave --validity 5d                                                              # expiring
FAKETIME=-30d LD_PRELOAD=$FAKETIME_LIB "$CK_BIN" --home "$H" user create erin --cn erin \
  --email erin@example.org --validity 10d --out "$WORK/old" --password-file "$WORK/erin.pw" > /dev/null  # expired
ck crl build > /dev/null

# A server certificate (old, then new) from a separate PKI, served by nginx.
test_pki
leaf old DNS:site.example.test,IP:127.0.0.1  # the IP: launch_nginx checks it with curl
leaf new DNS:site.example.test,IP:127.0.0.1
ck cert import --cert "$WORK/old.pem" --key "$WORK/old.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
ck cert import --cert "$WORK/new.pem" --key "$WORK/new.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
cat "$WORK/new.pem" "$WORK/inter.pem" > "$WORK/new-full.pem"
cat "$WORK/old.pem" "$WORK/inter.pem" > "$WORK/old-full.pem"
N="$WORK/nginx"; mkdir -p "$N/logs" "$N/tmp"
nginx_http() {  # PORT serves the new certificate, PORT+1 the old one
  local p
  for p in "$1:new" "$(( $1 + 1 )):old"; do cat <<CONF
  server {
    listen 127.0.0.1:${p%%:*} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $WORK/${p#*:}-full.pem;
    ssl_certificate_key $WORK/${p#*:}.key;
    location / { return 200 "ok\n"; }
  }
CONF
  done
}
on_fail() { echo "--- serve"; cat "$WORK/serve.log" 2>/dev/null; echo "--- metrics"; cat "$WORK/m.txt" 2>/dev/null; }
start_nginx_on_a_port "$N" "$WORK/root.pem" https nginx_http
P_NEW=$PORT; P_OLD=$((PORT + 1)); P_DOWN=$((PORT + 2))
E_NEW="127.0.0.1:$P_NEW@site.example.test"; E_OLD="127.0.0.1:$P_OLD@site.example.test"
E_DOWN="127.0.0.1:$P_DOWN@site.example.test"; E_WRONG="127.0.0.1:$P_NEW@wrong.example.test"
cat > "$WORK/site.toml" <<TOML
[certificate]
name = "site"
ca_file = "root.pem"
[[stage]]
name = "all"
$(for t in aligned:$E_NEW stale:$E_OLD down:$E_DOWN; do printf '[[stage.target]]\nname = "%s"\nendpoints = ["%s"]\n[stage.target.deploy]\nkind = "command"\ncommand = ["true"]\n' "${t%%:*}" "${t#*:}"; done)
TOML
# plan_file NAME CERTIFICATE TARGET ENDPOINT VERIFY_TIMEOUT: a one-target plan.
plan_file() {
  printf '[certificate]\nname = "%s"\nca_file = "root.pem"\n[[stage]]\nname = "all"\n[[stage.target]]\nname = "%s"\nendpoints = ["%s"]\nverify_timeout = "%s"\n[stage.target.deploy]\nkind = "command"\ncommand = ["true"]\n' \
    "$2" "$3" "$4" "$5" > "$WORK/$1.toml"
}
plan_file gone gone edge "$E_NEW" 5s   # no stored certificate of that name
plan_file one site edge "$E_NEW" 5s    # a rollout that succeeds
plan_file stale site edge "$E_OLD" 1s  # one whose endpoint keeps the old certificate
# The same endpoint twice (two teams list it): one series, never a duplicate.
printf '%s\n%s\n%s\n' "$E_NEW" "$E_NEW" "$E_WRONG" > "$WORK/targets"

# --- serve ------------------------------------------------------------------
scrape() { curl -sf --noproxy '*' "$URL/metrics" > "$WORK/m.txt" || fail "scrape failed"; }
# wait_for WHAT 'CONDITION': up to 10 s until CONDITION (evaluated after each scrape) holds.
wait_for() {
  for _ in $(seq 50); do scrape; if eval "$2"; then return 0; fi; sleep 0.2; done
  fail "$1: not within 10 s"
}
# --ca-file is for the targets file only (certkeeper's CA: not what nginx's
# chains lead to); the plan trusts its own ca_file (root.pem).
start_serve "$WORK/serve.log" --probe-interval 1s --probe-timeout 2s --probe-threads 2 --plan "$WORK/site.toml" \
  --plan "$WORK/gone.toml" --plan "$WORK/one.toml" --plan "$WORK/stale.toml" \
  --targets-file "$WORK/targets" --ca-file "$WORK/ca.pem"
started=$(date +%s)
wait_for "a probe round" '[ "$(PT "$WORK/m.txt" series certkeeper_endpoint_aligned | wc -l)" = 6 ]'

promtool check metrics < "$WORK/m.txt" > "$WORK/promtool.out" 2>&1 || fail "promtool check metrics: $(cat "$WORK/promtool.out")"
n=$(PT "$WORK/m.txt" check) || fail "exposition: $n"
pass "promtool check metrics passes; $n series, each once, each in its family"

# Counts by state: active alice, bob's new, dave; held bob's old; revoked carol; expired erin.
for s in active:3 held:1 revoked:1 expired:1; do
  assert_eq "$(get certkeeper_client_certificates state=${s%%:*})" "${s#*:}" "client certificates ${s%%:*}"
done
assert_eq "$(get certkeeper_users)" 5 "users"
for w in 7d 14d 30d; do assert_eq "$(get certkeeper_client_certificates_expiring within=$w)" 1 "expiring within $w (dave)"; done
# The alertable set: dave (active, 5 days) and bob's old certificate (held); nobody else.
assert_eq "$(PT "$WORK/m.txt" series certkeeper_client_certificate_not_after_timestamp_seconds | sort)" \
  "$(printf 'serial=%s,state=held,user=bob %s\nserial=%s,state=active,user=dave %s\n' \
      "$(serial_of "$WORK/old/bob.crt")" "$(epoch_of "$WORK/old/bob.crt")" \
      "$(serial_of "$WORK/old/dave.crt")" "$(epoch_of "$WORK/old/dave.crt")" | sort)" "alertable client certificates"
pass "client certificates: counts by state, expiring windows, the alertable set"

assert_eq "$(get certkeeper_held_revocations)" 1 "held revocations"
age=$(get certkeeper_held_revocation_age_seconds user=bob)
[ "$age" -ge 0 ] && [ "$age" -le $(( $(date +%s) - started + 60 )) ] || fail "bob's held age $age"
assert_eq "$(PT "$WORK/m.txt" series certkeeper_held_revocation_age_seconds | wc -l)" 1 "one held series"
pass "held revocations: count 1, bob's age ${age}s"

CRL="$WORK/pub/ca.crl"
assert_eq "$(get certkeeper_crl_number)" "$(crl_number "$CRL")" "CRL number (openssl)"
assert_eq "$(get certkeeper_crl_entries)" "$(openssl crl -in "$CRL" -noout -text | grep -c 'Serial Number:')" "CRL entries (openssl)"
assert_eq "$(get certkeeper_crl_size_bytes)" "$(stat -c %s "$CRL")" "CRL size (stat)"
crl_time() { date -u -d "$(openssl crl -in "$CRL" -noout -"$1" | cut -d= -f2)" +%s; }
assert_eq "$(get certkeeper_crl_this_update_timestamp_seconds)" "$(crl_time lastupdate)" "CRL thisUpdate"
assert_eq "$(get certkeeper_crl_next_update_timestamp_seconds)" "$(crl_time nextupdate)" "CRL nextUpdate"
assert_eq "$(get certkeeper_crl_publish_success)" 1 "CRL published"
pub=$(get certkeeper_crl_last_publish_timestamp_seconds)
[ "$pub" -le "$started" ] && [ "$pub" -ge $(( started - 300 )) ] || fail "last publish time $pub"
pass "CRL: number, entries, size, this/next update as openssl and stat say; published"

assert_eq "$(get certkeeper_certificate_not_after_timestamp_seconds kind=server name=site)" "$(epoch_of "$WORK/new.pem")" "server notAfter"
assert_eq "$(get certkeeper_certificate_not_after_timestamp_seconds kind=ca name="E2E CA")" "$(epoch_of "$WORK/ca.pem")" "CA notAfter"
sha=$(openssl x509 -in "$WORK/new.pem" -outform DER | openssl sha256 -r | cut -d' ' -f1)
assert_eq "$(get certkeeper_certificate_info kind=server name=site serial="$(serial_of "$WORK/new.pem")" sha256="$sha" version=2 source=import)" 1 "server certificate info"
pass "server and CA certificates"

# Endpoints: aligned 1/0 per endpoint of the plan, failure reasons, what each serves.
assert_eq "$(get certkeeper_endpoint_aligned plan=site target=aligned endpoint="$E_NEW")" 1 "serving the new certificate: aligned"
assert_eq "$(get certkeeper_endpoint_aligned plan=site target=stale endpoint="$E_OLD")" 0 "serving the old certificate: not aligned"
assert_eq "$(get certkeeper_endpoint_aligned plan=site target=down endpoint="$E_DOWN")" 0 "nothing listening: not aligned"
assert_eq "$(get certkeeper_endpoint_probe_success plan=site target=stale endpoint="$E_OLD")" 1 "the old certificate is still valid"
assert_eq "$(get certkeeper_endpoint_probe_success plan=site target=down endpoint="$E_DOWN")" 0 "down: probe fails"
assert_eq "$(get certkeeper_endpoint_failure_info plan=site target=down endpoint="$E_DOWN" reason=connect)" 1 "down: reason connect"
assert_eq "$(get certkeeper_endpoint_failure_info plan= target= endpoint="$E_NEW" reason=verify)" 1 "targets file: chain not from --ca-file: reason verify"
assert_eq "$(get certkeeper_endpoint_failure_info plan= target= endpoint="$E_WRONG" reason=verify)" 1 "an untrusted chain is reported before a wrong name"
assert_eq "$(PT "$WORK/m.txt" series certkeeper_endpoint_failure_info | wc -l)" 3 "failure reasons only for failing endpoints"
assert_eq "$(get certkeeper_endpoint_leaf_not_after_timestamp_seconds plan=site target=stale endpoint="$E_OLD")" "$(epoch_of "$WORK/old.pem")" "leaf notAfter of the stale endpoint"
assert_eq "$(get certkeeper_endpoint_leaf_not_after_timestamp_seconds plan=site target=aligned endpoint="$E_NEW")" "$(epoch_of "$WORK/new.pem")" "leaf notAfter of the aligned endpoint"
earliest=$(printf '%s\n' "$(epoch_of "$WORK/new.pem")" "$(epoch_of "$WORK/inter.pem")" | sort -n | head -1)
assert_eq "$(get certkeeper_endpoint_chain_not_after_timestamp_seconds plan=site target=aligned endpoint="$E_NEW")" "$earliest" "earliest notAfter in the chain"
assert_eq "$(get certkeeper_endpoint_leaf_not_after_timestamp_seconds plan=site target=down endpoint="$E_DOWN")" absent "no notAfter for an endpoint that served nothing"
assert_eq "$(get certkeeper_endpoint_tls_version_info plan=site target=aligned endpoint="$E_NEW" version=TLSv1.3)" 1 "TLS version"
assert_eq "$(PT "$WORK/m.txt" series certkeeper_endpoint_probe_success | grep -c "^endpoint=$E_NEW,plan=,target= ")" 1 "the endpoint listed twice in the targets file: one series"
pass "endpoints: aligned 1/0/0 (the plan's own ca_file), failure reasons connect and verify, leaf and chain notAfter"

# A plan whose certificate is not in the store: its endpoint is still probed
# (it answers) but never counts as aligned, and the plan says why.
assert_eq "$(get certkeeper_plan_certificate_resolved plan=gone)" 0 "the plan naming no stored certificate"
assert_eq "$(get certkeeper_plan_certificate_resolved plan=site)" 1 "the plan whose certificate is stored"
assert_eq "$(get certkeeper_endpoint_aligned plan=gone target=edge endpoint="$E_NEW")" 0 "unresolved plan: not aligned"
assert_eq "$(get certkeeper_endpoint_probe_success plan=gone target=edge endpoint="$E_NEW")" 1 "unresolved plan: its endpoint still probed"
curl -sf --noproxy '*' "$URL/api/v1/rollouts" > "$WORK/rollouts.json" || fail "GET /api/v1/rollouts"
gone_error=$(/usr/bin/python3 -c 'import json,sys; print([p for p in json.load(open(sys.argv[1]))["items"] if p["plan"] == "gone"][0]["certificate_error"])' "$WORK/rollouts.json")
case "$gone_error" in *gone*) ;; *) fail "the API names the missing certificate: $gone_error" ;; esac
pass "a plan whose certificate is not stored: resolved 0, its endpoint probed and not aligned ($gone_error)"

# --- rollout states, as rollout status reads them from the journal -----------
assert_eq "$(PT "$WORK/m.txt" series certkeeper_rollout_state | wc -l)" 0 "no rollout yet: no state series"
before=$(date +%s)
ck rollout apply "$WORK/one.toml" > /dev/null || fail "rollout apply one.toml"
rc=0; ck rollout apply "$WORK/stale.toml" > /dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "a rollout whose endpoint keeps the old certificate"
after=$(date +%s)
state_of() { "$CK_BIN" --home "$H" rollout status "$WORK/$1.toml" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
one_state=$(state_of one); stale_state=$(state_of stale)
assert_eq "$one_state" done "rollout status of one.toml"
case "$stale_state" in failed|partial|rolled-back) ;; *) fail "rollout status of stale.toml: $stale_state" ;; esac
wait_for "both rollouts in /metrics" \
  '[ "$(get certkeeper_rollout_state plan=one state=done)" = 1 ] && [ "$(get certkeeper_rollout_state plan=stale state="$stale_state")" = 1 ]'
for plan in one stale; do
  # Every state listed once; exactly one of them is 1.
  assert_eq "$(PT "$WORK/m.txt" series certkeeper_rollout_state | grep -c "^plan=$plan,")" 7 "$plan: one series per state"
  assert_eq "$(PT "$WORK/m.txt" series certkeeper_rollout_state | grep "^plan=$plan," | awk '{s += $2} END {print s}')" 1 "$plan: one state is 1"
  t=$(get certkeeper_rollout_last_change_timestamp_seconds plan=$plan)
  [ "$t" -ge "$before" ] && [ "$t" -le "$after" ] || fail "$plan: last change $t not within [$before, $after]"
done
assert_eq "$(PT "$WORK/m.txt" series certkeeper_rollout_state | grep -c "^plan=site,")" 0 "a plan never rolled out: no state"
pass "rollout states: one.toml done, stale.toml $stale_state (as rollout status says), last change timestamps"

# No e-mail address or DN in any label (the endpoint label's '@' is target syntax).
for u in alice bob carol dave erin; do
  if grep -q "$u@example.org" "$WORK/m.txt"; then fail "$u's e-mail address in /metrics"; fi
done
if PT "$WORK/m.txt" labels | grep -Eq '(^|[=,])(CN|O|OU|C|L|ST|emailAddress)='; then fail "a DN in a label: $(PT "$WORK/m.txt" labels | grep -E '(CN|O|OU)=')"; fi
pass "no e-mail address or DN in a label"

# --- a change in the store shows without a restart --------------------------
ck user renew alice --out "$WORK/new" --password-file "$WORK/alice.pw2" > /dev/null
touch "$WORK/publish-fails"
rc=0; ck crl build > /dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "the failing publish"
t0=$(date +%s)
wait_for "the renewal and the new CRL in /metrics" \
  '[ "$(get certkeeper_client_certificates state=held)" = 2 ] && [ "$(get certkeeper_crl_number)" = "$(crl_number "$CRL")" ]'
assert_eq "$(get certkeeper_client_certificate_not_after_timestamp_seconds user=alice serial="$(serial_of "$WORK/old/alice.crt")" state=held)" \
  "$(epoch_of "$WORK/old/alice.crt")" "alice's old certificate is held"
assert_eq "$(get certkeeper_crl_number)" "$(crl_number "$CRL")" "the new CRL's number"
assert_eq "$(get certkeeper_crl_publish_success)" 0 "the failed publish"
pass "user renew and a failed CRL publish show in /metrics after $(( $(date +%s) - t0 ))s, without a restart"

# --- SIGTERM under load: in-flight requests finish, exit 0 within 5 s ----------
loop_pids=()
for i in 1 2 3 4; do
  ( while :; do curl -s --noproxy '*' -o /dev/null "$URL/metrics" || true; done ) &
  loop_pids+=($!)
done
sleep 2
t0=$(date +%s%N)
kill -TERM $SERVE_PID
rc=0; wait $SERVE_PID || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "${loop_pids[@]}"; wait "${loop_pids[@]}" 2>/dev/null || true
assert_eq "$rc" 0 "serve's exit code after SIGTERM"
[ "$ms" -le 5000 ] || fail "SIGTERM took ${ms} ms"
pass "SIGTERM during a curl loop: exit 0 after ${ms} ms"

# --- SIGTERM during a probe round that would last a minute ------------------
# A listener that accepts and never answers: each probe of it runs to its
# --probe-timeout. Stopping must not wait for that.
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True: held.append(s.accept()[0])' "$WORK/silent.port" &
silent_pid=$!
CLEANUP_CMDS+=("kill $silent_pid 2>/dev/null")
for _ in $(seq 50); do [ -s "$WORK/silent.port" ] && break; sleep 0.1; done
echo "127.0.0.1:$(cat "$WORK/silent.port")" > "$WORK/silent.targets"
start_serve "$WORK/serve3.log" --probe-interval 1s --probe-timeout 60s --targets-file "$WORK/silent.targets"
sleep 1.5
t0=$(date +%s%N)
kill -TERM $SERVE_PID
rc=0; wait $SERVE_PID || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_eq "$rc" 0 "serve's exit code after SIGTERM during a probe round"
[ "$ms" -le 5000 ] || fail "SIGTERM during a 60 s probe took ${ms} ms"
pass "SIGTERM during a probe round of a silent endpoint (--probe-timeout 60s): exit 0 after ${ms} ms"

# --- /healthz: 503 when the store cannot be read, never a false green --------
start_serve "$WORK/serve2.log" --refresh-interval 1s
assert_eq "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$URL/healthz")" 200 "healthz with a readable store"
# The database replaced by junk (as a botched restore would: the WAL and its
# index removed, a file renamed over it): every other certkeeper command
# fails, while serve's open connection could go on reading the old file.
# On PostgreSQL: a table gone from under serve's open connection.
if pg_store; then
  db_sql "ALTER TABLE certificates RENAME TO certificates_gone"
  unreadable='certificates" does not exist'
else
  head -c 65536 /dev/urandom > "$WORK/junk"
  rm -f "$H/certkeeper.db-wal" "$H/certkeeper.db-shm"
  mv "$WORK/junk" "$H/certkeeper.db"
  unreadable="not a"
fi
rc=0; ck user list > /dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "another command on the junk store"
for _ in $(seq 50); do
  code=$(curl -s --noproxy '*' -o "$WORK/hz" -w '%{http_code}' "$URL/healthz")
  [ "$code" = 503 ] && break; sleep 0.2
done
assert_eq "$code" 503 "healthz over a store replaced by junk"
grep -qF "$unreadable" "$WORK/hz" || fail "healthz says why: $(cat "$WORK/hz")"
scrape
assert_eq "$(get certkeeper_store_up)" 0 "store_up over a junk store"
assert_eq "$(get certkeeper_client_certificates state=active)" absent "no store series from a store that cannot be read"
pass "healthz 503 ($(head -1 "$WORK/hz")) and store_up 0 once the store cannot be read"
stop_server $SERVE_PID
