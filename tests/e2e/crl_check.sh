#!/bin/bash
# `crl check` against real nginx nodes with client-certificate auth: which
# CRL each one enforces, observed with the CRL canaries. Three nodes get the
# CRL; after a new build it is copied to two of them and only one reloads:
# "newest" there, "stale by 1" on the others, then "newest" everywhere once
# they reload. A node that does not ask for client certificates, and one
# that asks without a CRL (it answers 200 to a revoked certificate), are
# named as such. The canary is revoked as openssl sees it, and shows up in
# no listing.
. "$(dirname "$0")/lib.sh" "$1"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/install-deps.sh)"

ck ca init --name "Check CA" > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
ck user create alice --cn alice --email alice@example.org --out "$WORK/p12" --password-file "$WORK/a.pw" > /dev/null
ck --json crl build --out "$WORK/ca.crl" > "$WORK/b1.json"
assert_eq "$(json '(d["number"], d["canaries"], d["entries"])' < "$WORK/b1.json")" "(1, 1, 1)" "CRL #1: its canary only"

# The servers' own certificate, from a throwaway CA.
S="$WORK/srv"; mkdir -p "$S"
server_pki "$S"

# node NAME MODE: an nginx of its own under $WORK/NAME with its own CRL copy.
# MODE: on (CRL checked), off (no client certificate asked), nocrl (asked,
# verified against the CA, no CRL: a revoked certificate gets 200).
node() {
  local dir="$WORK/$1" mode="$2"
  mkdir -p "$dir/logs" "$dir/tmp"
  cp "$WORK/ca.crl" "$dir/ca.crl"
  eval "conf_$1() {
    echo '  access_log off;'
    echo '  server {'
    echo \"    listen 127.0.0.1:\$1 ssl;\"
    echo '    ssl_protocols TLSv1.2 TLSv1.3;'
    echo '    ssl_certificate $S/server.pem;'
    echo '    ssl_certificate_key $S/server.key;'
    case $mode in
      on) echo '    ssl_client_certificate $WORK/ca.pem;'; echo '    ssl_crl $dir/ca.crl;'; echo '    ssl_verify_client on;';;
      nocrl) echo '    ssl_client_certificate $WORK/ca.pem;'; echo '    ssl_verify_client optional;';;
      off) ;;
    esac
    echo '    location / { return 200 \"hello\\n\"; }'
    echo '  }'
  }"
  start_nginx_on_a_port "$dir" "$S/sca.pem" https "conf_$1"
  printf -v "PORT_$1" '%s' "$PORT"
  printf -v "PID_$1" '%s' "$NGINX_PID"
}
# reload NAME: nginx re-reads its CRL; waits until the old worker is gone.
reload() { local pid_var="PID_$1"; nginx_reload "${!pid_var}"; }
on_fail() { for n in n1 n2 n3 off nocrl; do echo "--- $n error.log"; tail -5 "$WORK/$n/logs/error.log" 2>/dev/null; done; }
node n1 on; node n2 on; node n3 on; node off off; node nocrl nocrl
ep() { echo "https://127.0.0.1:$(eval echo "\$PORT_$1")/"; }
check_json() { ck --json crl check --ca-file "$S/sca.pem" --timeout 3s "$@"; }
states() { json '" ".join(e["state"] + ("#" + str(e["crl_number"]) if e["crl_number"] else "") for e in d["endpoints"])'; }

rc=0; check_json "$(ep n1)" "$(ep n2)" "$(ep n3)" "$(ep off)" "$(ep nocrl)" > "$WORK/c1.json" || rc=$?
assert_eq "$rc" 3 "two nodes do not enforce the CRL: exit 3"
assert_eq "$(states < "$WORK/c1.json")" "newest#1 newest#1 newest#1 no-client-check accepts-revoked" "CRL #1 everywhere it is checked"
assert_eq "$(json '(d["last_crl"], d["on_newest"], d["total"])' < "$WORK/c1.json")" "(1, 3, 5)" "summary"
pass "newest on the nodes with the CRL; no client check and accepts-revoked named"

# CRL #2: copied to n1 and n2, only n1 reloads.
ck --json crl build --out "$WORK/ca.crl" > "$WORK/b2.json"
assert_eq "$(json '(d["number"], d["canaries"])' < "$WORK/b2.json")" "(2, 3)" "CRL #2: both CRL canaries and the first check's"
cp "$WORK/ca.crl" "$WORK/n1/ca.crl"; cp "$WORK/ca.crl" "$WORK/n2/ca.crl"
reload n1
rc=0; check_json "$(ep n1)" "$(ep n2)" "$(ep n3)" > "$WORK/c2.json" || rc=$?
assert_eq "$rc" 3 "stale nodes: exit 3"
assert_eq "$(states < "$WORK/c2.json")" "newest#2 stale#1 stale#1" "n1 reloaded; n2 copied but not reloaded; n3 neither"
assert_eq "$(json '[e["stale_by"] for e in d["endpoints"]]' < "$WORK/c2.json")" "[0, 1, 1]" "stale by 1"
# The text says it too.
rc=0; ck crl check --ca-file "$S/sca.pem" "$(ep n1)" "$(ep n2)" > "$WORK/c2.txt" || rc=$?
assert_eq "$rc" 3 "text: exit 3"
grep -q "stale by 1 (#1)" "$WORK/c2.txt" || fail "text: $(cat "$WORK/c2.txt")"
grep -q "^1/2 endpoint(s) enforce the newest CRL (#2)$" "$WORK/c2.txt" || fail "text summary: $(cat "$WORK/c2.txt")"
pass "copied without a reload is stale; reloaded is newest"

cp "$WORK/ca.crl" "$WORK/n3/ca.crl"; reload n2; reload n3
rc=0; check_json "$(ep n1)" "$(ep n2)" "$(ep n3)" > "$WORK/c3.json" || rc=$?
assert_eq "$rc" 0 "every node on the newest CRL: exit 0"
assert_eq "$(states < "$WORK/c3.json")" "newest#2 newest#2 newest#2" "after the reloads"
pass "newest everywhere after the reloads"

# What nginx saw: the canary by its name, refused as revoked.
grep -q "certificate revoked" "$WORK/n1/logs/error.log" || fail "nginx logged no revoked canary"
# openssl agrees: CRL #2's canary is revoked by CRL #2.
db_sql "SELECT hex(der) FROM crl_canaries WHERE crl_number = 2" | unhex > "$WORK/canary2.der"
openssl x509 -inform DER -in "$WORK/canary2.der" -out "$WORK/canary2.pem"
openssl x509 -in "$WORK/canary2.pem" -noout -subject | grep -q "certkeeper CRL canary" || fail "canary subject"
verify_out "$WORK/canary2.pem" "$WORK/ca.crl" | grep -q "certificate revoked" || fail "openssl: canary #2 not revoked"
# The valid canaries of the runs are in the next CRL.
check_serial=$(db_sql "SELECT hex(serial) FROM crl_canaries WHERE purpose = 'check' LIMIT 1")
openssl crl -in "$WORK/ca.crl" -noout -text | grep -q "Serial Number: $check_serial" || fail "a run's valid canary is not in the next CRL"
pass "the canaries are revoked as openssl reads the CRL"

# Never in a listing; the key never leaves the store.
for cmd in "user list" "cert list" "expiring --within 3650d" "notify --dry-run --within 3650d"; do
  # shellcheck disable=SC2086
  if ck --json $cmd 2>&1 | grep -qi "canary"; then fail "$cmd shows a canary"; fi
done
# (Searched as hex, the same on both stores: "PRIVATE KEY" in ASCII.)
if [ "$(db_sql "SELECT count(*) FROM crl_canaries WHERE hex(sealed_key) LIKE '%50524956415445204B4559%'")" != 0 ]; then
  fail "a canary key is stored in the clear"
fi
assert_eq "$(db_sql "SELECT count(*) FROM crl_canaries WHERE purpose = 'check' AND sealed_key IS NOT NULL")" 0 "valid canaries keep no key"
# (The store itself holds this test CA's key unencrypted: no passphrase is set.)
if grep -rl --exclude='certkeeper.db*' "PRIVATE KEY" "$H" "$WORK"/*.json "$WORK"/*.txt 2>/dev/null; then
  fail "a key in a file"
fi
# ... but `cert list --all` shows them, revoked.
ck --json cert list --all > "$WORK/all.json"
assert_eq "$(json '[c["user"] for c in d if c["user"].startswith("(crl canary")]' < "$WORK/all.json")" \
  "['(crl canary #1)', '(crl canary #2)']" "cert list --all: the CRL canaries"
assert_eq "$(json 'sorted({c["status"] for c in d if c["user"].startswith("(")})' < "$WORK/all.json")" "['revoked']" "all revoked"
assert_eq "$(json 'len([c for c in d if c["user"] == "(crl check)"])' < "$WORK/all.json")" 4 "one valid canary per check run (four runs)"
pass "canaries in no listing but cert list --all, keys sealed or not kept"

# Bad input: one line, exit 1.
expect_error "no endpoint" "no endpoint given" -- ck crl check
expect_error "a bad endpoint" "nope:99999" -- ck crl check "nope:99999"

# [crl] check_endpoints: `crl build` checks where its CRL went.
cat > "$WORK/deploy" <<DEPLOY
#!/bin/bash
# Copies the CRL to the nodes (n3 only without skip_n3) and reloads them,
# waiting for each old worker to go.
set -e
for n in n1 n2 n3; do
  [ "\$n" = n3 ] && [ -e "$WORK/skip_n3" ] && continue
  cp "\$1" "$WORK/\$n/ca.crl"
done
for pid in $PID_n1 $PID_n2 $PID_n3; do
  old=\$(pgrep -P "\$pid" || true); kill -HUP "\$pid"
  for _ in \$(seq 100); do
    alive=0; for w in \$old; do kill -0 "\$w" 2>/dev/null && alive=1; done
    [ "\$alive" = 0 ] && break; sleep 0.1
  done
done
DEPLOY
chmod +x "$WORK/deploy"
cat > "$H/certkeeper.toml" <<TOML
[crl]
out = "$WORK/ca.crl"
publish_command = ["$WORK/deploy", "{{crl_file}}"]
check_endpoints = ["$(ep n1)", "$(ep n2)", "$(ep n3)"]
check_timeout = "3s"
TOML
rc=0; ck crl build > "$WORK/b3.txt" || rc=$?
assert_eq "$rc" 0 "deployed everywhere: exit 0 ($(cat "$WORK/b3.txt"))"
grep -q "^published and enforced on 3/3 endpoint(s)$" "$WORK/b3.txt" || fail "build text: $(cat "$WORK/b3.txt")"
touch "$WORK/skip_n3"
rc=0; ck --json crl build > "$WORK/b4.json" || rc=$?
assert_eq "$rc" 3 "n3 left behind: exit 3"
assert_eq "$(json '(d["number"], d["enforcement"]["on_newest"], d["enforcement"]["total"])' < "$WORK/b4.json")" "(4, 2, 3)" "enforced on 2 of 3"
assert_eq "$(json '[e["state"] for e in d["enforcement"]["endpoints"]]' < "$WORK/b4.json")" "['newest', 'newest', 'stale']" "n3 stale"
pass "crl build with [crl] check_endpoints: enforced on 3/3, then names the straggler (exit 3)"

# serve shows what the last check saw (it holds no CA key and cannot check):
# the CRL number each endpoint enforces, and "enforced" only while that CRL is
# still the newest.
PT() { /usr/bin/python3 "$(dirname "$0")/prom_text.py" "$@"; }
start_serve "$WORK/serve.log" --refresh-interval 1s
metric() { PT "$WORK/m.txt" get "$@"; }
scrape_until() {  # scrape_until WHAT 'CONDITION'
  for _ in $(seq 50); do
    curl -sf --noproxy '*' "$URL/metrics" > "$WORK/m.txt" || fail "scrape failed"
    eval "$2" && return 0
    sleep 0.2
  done
  fail "$1: $(PT "$WORK/m.txt" check 2>&1 | tail -1); $(grep "^certkeeper_endpoint_crl" "$WORK/m.txt")"
}
scrape_until "the check's observations" '[ "$(metric certkeeper_endpoint_crl_number "endpoint=$(ep n3)")" = 3 ]'
PT "$WORK/m.txt" check > /dev/null || fail "exposition: $(PT "$WORK/m.txt" check)"
promtool check metrics < "$WORK/m.txt" > "$WORK/promtool.out" 2>&1 || fail "promtool: $(cat "$WORK/promtool.out")"
assert_eq "$(metric certkeeper_endpoint_crl_number "endpoint=$(ep n1)") $(metric certkeeper_endpoint_crl_enforced "endpoint=$(ep n1)")" \
  "4 1" "n1 enforces CRL #4, the newest"
assert_eq "$(metric certkeeper_endpoint_crl_enforced "endpoint=$(ep n3)") $(metric certkeeper_endpoint_crl_state_info "endpoint=$(ep n3)" state=stale)" \
  "0 1" "n3 is stale: not enforced"
# The inventory page says the same.
curl -sf --noproxy '*' "$URL/" > "$WORK/page.html" || fail "the inventory page"
grep -qF "<tr class=\"enforced\"><td class=\"who\">$(ep n1)</td><td class=\"verdict\">enforces the newest CRL #4</td>" "$WORK/page.html" ||
  fail "page: n1 enforced: $(grep -A3 'id="enforcement"' "$WORK/page.html")"
grep -qF "<tr class=\"not-enforced\"><td class=\"who\">$(ep n3)</td><td class=\"verdict\">stale: enforces #3, an older CRL</td>" "$WORK/page.html" ||
  fail "page: n3 stale: $(grep -A6 'id="enforcement"' "$WORK/page.html")"
checked=$(metric certkeeper_endpoint_crl_checked_timestamp_seconds "endpoint=$(ep n1)")
[ "$(( $(date +%s) - ${checked%.*} ))" -lt 120 ] || fail "checked at $checked"
# A CRL built and not checked: what was seen enforcing #4 no longer counts.
printf '[crl]\nout = "%s"\n' "$WORK/ca.crl" > "$H/certkeeper.toml"
ck crl build > /dev/null
scrape_until "a CRL built since the check" '[ "$(metric certkeeper_crl_number)" = 5 ]'
assert_eq "$(metric certkeeper_endpoint_crl_number "endpoint=$(ep n1)") $(metric certkeeper_endpoint_crl_enforced "endpoint=$(ep n1)")" \
  "4 0" "n1 enforced #4; #5 is newer and unchecked: not enforced"
assert_eq "$(metric certkeeper_endpoint_crl_enforced "endpoint=$(ep off)") $(metric certkeeper_endpoint_crl_number "endpoint=$(ep off)")" \
  "0 absent" "the node without client checks: not enforced, no CRL number"
assert_eq "$(db_sql "SELECT count(*) FROM audit WHERE action = 'crl.check'
  UNION ALL SELECT count(*) FROM audit WHERE action = 'crl.check.canary'" | sort -u)" 6 "one audit entry per check run (six)"
pass "serve: certkeeper_endpoint_crl_number / _enforced from the last check, judged against the newest CRL"
printf '[crl]\ncheck_endpoints = ["nope:99999"]\n' > "$H/certkeeper.toml"
expect_error "a typo in [crl] check_endpoints" "check_endpoints" -- ck crl build --out "$WORK/never.crl"

# A check that cannot run after the CRL went out (here: its table is gone when
# the publish command returns): the build is still reported, then one error
# line says the check could not run; exit 1.
db_sql_script "$WORK/drop-table" "DROP TABLE crl_enforcement"
printf '[crl]\nout = "%s"\npublish_command = ["%s"]\ncheck_endpoints = ["%s"]\ncheck_timeout = "3s"\n' \
  "$WORK/ca.crl" "$WORK/drop-table" "$(ep n1)" > "$H/certkeeper.toml"
rc=0; ck crl build > "$WORK/b9.txt" 2> "$WORK/b9.err" || rc=$?
assert_eq "$rc" 1 "the check could not run: exit 1"
n=$(crl_number "$WORK/ca.crl")
grep -q "^CRL #$n with " "$WORK/b9.txt" || fail "the built CRL is not reported: $(cat "$WORK/b9.txt")"
assert_eq "$(wc -l < "$WORK/b9.err")" 1 "one error line: $(cat "$WORK/b9.err")"
grep -q "^certkeeper: error: CRL #$n went out, but \[crl\] check_endpoints could not run: " "$WORK/b9.err" ||
  fail "the error: $(cat "$WORK/b9.err")"
pass "a check that cannot run: $(cat "$WORK/b9.err")"
