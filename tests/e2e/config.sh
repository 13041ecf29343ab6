#!/bin/bash
# certkeeper.toml: the CA passphrase from a 0600 file named in the config;
# unknown keys and loose permissions are errors naming the key/file and line.
. "$(dirname "$0")/lib.sh" "$1"

mkdir -p "$H"
printf 'correct horse battery staple\n' > "$H/ca.pass"; chmod 600 "$H/ca.pass"
printf '# certkeeper settings\n[ca]\npassphrase_file = "ca.pass"\n' > "$H/certkeeper.toml"
"$CK_BIN" --home "$H" ca init --name "Config CA" > /dev/null 2> "$WORK/err"
grep -q "warning" "$WORK/err" && fail "no warning expected with a passphrase: $(cat "$WORK/err")"
assert_eq "$(ck --json ca show | json 'd["key_encrypted"]')" True "key encrypted with the configured passphrase"
db_sql "select key_pem from ca" > "$WORK/key.pem"
openssl pkey -in "$WORK/key.pem" -passin "file:$H/ca.pass" -noout || fail "key opens with the passphrase file"
ck user create alice --cn Alice --email alice@example.org --out "$WORK/b" --password-file "$WORK/a.pw" > /dev/null
pass "CA key encrypted with [ca] passphrase_file"

chmod 644 "$H/ca.pass"
rc=0; ck user list > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "loose passphrase file"
grep -q "ca.pass' can be read by others" "$WORK/err" || fail "message: $(cat "$WORK/err")"
chmod 600 "$H/ca.pass"
pass "a passphrase file others can read is refused"

printf '[ca]\npassphrase_file = "ca.pass"\npassphrase = "oops"\n' > "$H/certkeeper.toml"
rc=0; ck user list > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "unknown key"
grep -q "certkeeper.toml' line 3: unknown key 'ca.passphrase'" "$WORK/err" || fail "message: $(cat "$WORK/err")"
printf '[ca]\npassphrase_file = 42\n' > "$H/certkeeper.toml"
rc=0; ck user list > /dev/null 2> "$WORK/err" || rc=$?
grep -q "line 2: 'ca.passphrase_file' must be a string" "$WORK/err" || fail "wrong type: $(cat "$WORK/err")"
printf '[ca\n' > "$H/certkeeper.toml"
rc=0; ck user list > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "syntax error"
grep -q "certkeeper.toml' line 1" "$WORK/err" || fail "syntax error names the line: $(cat "$WORK/err")"
rc=0; ck --config "$WORK/missing.toml" user list > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "missing --config"
grep -q "missing.toml' does not exist" "$WORK/err" || fail "message: $(cat "$WORK/err")"
pass "config errors name the key and the line"

# Wrong types and unknown keys in the other sections; missing or empty secret files.
printf '[delivery]\ncommand = "sms-send"\n' > "$H/certkeeper.toml"
expect_error "[delivery] command not an array" "line 2: 'delivery.command' must be a non-empty array of strings" -- ck user list
printf '[crl]\nout = "x.crl"\nmax_size = -5\n' > "$H/certkeeper.toml"
expect_error "[crl] max_size negative" "line 3: 'crl.max_size' must be a positive integer" -- ck user list
printf '[crl]\npublish = ["x"]\n' > "$H/certkeeper.toml"
expect_error "[crl] unknown key" "line 2: unknown key 'crl.publish'" -- ck user list
printf '[serve]\nplans = ["ok.toml", ""]\n' > "$H/certkeeper.toml"
expect_error "[serve] empty plan path" "line 2: 'serve.plans' must be an array of non-empty strings" -- ck user list
printf '[serve]\nprobe_threads = 0\n' > "$H/certkeeper.toml"
expect_error "[serve] probe_threads 0" "probe_threads" -- ck user list
printf 'crl = 3\n' > "$H/certkeeper.toml"
expect_error "section not a table" "'crl' must be a table" -- ck user list
printf '[ca]\npassphrase_file = "missing.pass"\n' > "$H/certkeeper.toml"
expect_error "missing passphrase file" "missing.pass' does not exist" -- ck user list
: > "$H/empty.pass"; chmod 600 "$H/empty.pass"
printf '[ca]\npassphrase_file = "empty.pass"\n' > "$H/certkeeper.toml"
expect_error "empty passphrase file" "empty.pass' is empty" -- ck user list

# The shipped example config loads (every key in it is known and well-typed),
# given the secret files it names, and drives a notify dry run.
EX="$WORK/example"; mkdir -p "$EX/home"
cp "$(dirname "$0")/../../examples/certkeeper.toml" "$EX/"
for f in ca.pass smtp.pass conduit.token webhook.token; do printf 'secret-%s\n' "$f" > "$EX/$f"; chmod 600 "$EX/$f"; done
use_home "$EX/home"
"$CK_BIN" --home "$H" --config "$EX/certkeeper.toml" ca init --name "Example CA" >/dev/null 2>&1 \
  || fail "ca init with the example config"
ck --config "$EX/certkeeper.toml" notify --dry-run > "$EX/out" \
  || fail "notify --dry-run with the example config: $(cat "$EX/out")"
grep -q "^notify: 0 certificate(s) expire within 14d" "$EX/out" || fail "example config: $(cat "$EX/out")"
pass "examples/certkeeper.toml loads and runs"
