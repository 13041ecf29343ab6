#!/bin/bash
# Password delivery: [delivery] command gets the PKCS#12 password on its
# standard input (never argv or environment); if it fails, the password is
# shown once with a warning; it is never stored.
. "$(dirname "$0")/lib.sh" "$1"

mkdir -p "$H" "$WORK/sms"
cat > "$WORK/sms-send" <<'SH'
#!/bin/sh
# A stand-in SMS gateway CLI: records its arguments, environment and input.
out="$SMS_DIR/$(date +%s%N)"
printf '%s\n' "$@" > "$out.args"
env > "$out.env"
cat > "$out.stdin"
exit "${SMS_EXIT:-0}"
SH
chmod +x "$WORK/sms-send"
export SMS_DIR="$WORK/sms"
cat > "$H/certkeeper.toml" <<TOML
[delivery]
command = ["$WORK/sms-send", "--to", "{{phone}}", "--text", "certkeeper: bundle password for {{user}}"]
timeout = "10s"
TOML
ck ca init --name "E2E CA" >/dev/null 2>&1
ck --json user create alice --cn Alice --email alice@example.org --phone "+49 30 1234" --out "$WORK/b" > "$WORK/alice.json"
json '"password" in d' < "$WORK/alice.json" | grep -q False || fail "a delivered password must not be printed"
assert_eq "$(json 'd["password_delivered"]' < "$WORK/alice.json")" True "password_delivered"
stdin_file=$(ls "$WORK"/sms/*.stdin); base="${stdin_file%.stdin}"
openssl pkcs12 -in "$WORK/b/alice.p12" -passin "file:$stdin_file" -noout 2>/dev/null || fail "the bundle opens with what the command received"
assert_eq "$(sed -n 2p "$base.args")" "+49 30 1234" "phone is one argument"
assert_eq "$(sed -n 4p "$base.args")" "certkeeper: bundle password for alice" "templated argument"
pw=$(cat "$stdin_file")
if grep -qF "$pw" "$base.args" "$base.env"; then fail "password in argv or environment"; fi
if db_dump | grep -qF "$pw"; then fail "password stored"; fi
pass "password delivered on stdin only"

# The command fails: the bundle is written and the password is shown once
# (it exists nowhere else), but the command exits 1 with one line saying so:
# a timer or script must not count this as done.
rc=0; SMS_EXIT=3 ck --json user create bob --cn Bob --email bob@example.org --phone 123 --out "$WORK/b" > "$WORK/bob.json" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "failed delivery: exit code"
assert_eq "$(wc -l < "$WORK/err")" 1 "failed delivery: one stderr line"
grep -q "^certkeeper: error: password delivery '.*sms-send' exited with 3: the bundle of 'bob' is written ($WORK/b/bob.p12) and its password is shown on stdout instead" "$WORK/err" || fail "message: $(cat "$WORK/err")"
pw=$(json 'd["password"]' < "$WORK/bob.json")
openssl pkcs12 -in "$WORK/b/bob.p12" -passin "pass:$pw" -noout 2>/dev/null || fail "shown password opens the bundle"
if grep -qF "$pw" "$WORK/err"; then fail "the password is in the error line"; fi
if db_dump | grep -qF "$pw"; then fail "the undelivered password is stored"; fi
assert_eq "$(db_sql "select delivery from certificates c join users u on u.id=c.user_id where u.name='bob'")" delivered "the bundle is recorded as written"
pass "failed delivery: exit 1, bundle written, password shown once"

rc=0; SMS_EXIT=3 ck user renew bob --out "$WORK/b" > "$WORK/bob.txt" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "failed delivery on renew: exit code"
pw=$(sed -n 's/^  password:    //p' "$WORK/bob.txt")
[ -n "$pw" ] || fail "renew: password not shown: $(cat "$WORK/bob.txt")"
openssl pkcs12 -in "$WORK/b/bob.p12" -passin "pass:$pw" -noout 2>/dev/null || fail "renew: shown password opens the bundle"
grep -q "the bundle of 'bob' is written" "$WORK/err" || fail "renew message: $(cat "$WORK/err")"
pass "failed delivery on renew: exit 1, password shown in text mode"

# No phone number for a command that needs one.
rc=0; ck --json user create carol --cn Carol --email carol@example.org --out "$WORK/b" > "$WORK/carol.json" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "no phone number: exit code"
grep -q "user 'carol' has no phone number" "$WORK/err" || fail "phone warning: $(cat "$WORK/err")"
json 'd["password"]' < "$WORK/carol.json" >/dev/null || fail "password shown when it cannot be delivered"
pass "missing phone number is reported, password shown"
