#!/bin/bash
# A command that times out, or is running when certkeeper itself is stopped,
# is ended with everything it started: each command runs in its own process
# group, which gets SIGTERM, then SIGKILL after a grace period (5 s). Checked
# with pgrep on a marker that only the command's children carry.
. "$(dirname "$0")/lib.sh" "$1"
export CERTKEEPER_CA_PASSPHRASE="command timeout test passphrase"

MARK="ck-e2e-children-$$-$RANDOM"
left_behind() { pgrep -f "$MARK" || true; }
# Whatever a failing run leaves is ended by pid, not by name.
CLEANUP_CMDS+=('for p in $(left_behind); do kill -9 "$p"; done')
# slow ...: a deploy script that starts two children and waits for them, as an
# Ansible play does; killing this shell alone leaves both running, and the
# second one ignores SIGTERM as well.
cat > "$WORK/slow" <<SH
#!/bin/sh
sh -c "sleep 300; : $MARK plain" &
sh -c "trap '' TERM; sleep 300; : $MARK stubborn" &
touch "$WORK/slow.started"
wait
SH
chmod +x "$WORK/slow"
started() {
  for _ in $(seq 100); do [ -e "$WORK/slow.started" ] && [ "$(left_behind | wc -l)" -ge 2 ] && return 0; sleep 0.1; done
  fail "the slow command did not start its children"
}
none_left() {
  local pids; pids=$(left_behind)
  [ -z "$pids" ] || fail "$1: processes left behind: $(ps -o pid=,args= -p "$(echo $pids | tr ' ' ,)")"
}

# --- a [crl] publish_command that times out
mkdir -p "$H"
cat > "$H/certkeeper.toml" <<TOML
[crl]
publish_command = ["$WORK/slow", "{{crl_file}}"]
publish_timeout = "1s"
TOML
ck ca init --name "Timeout CA" > /dev/null 2>&1
start=$(date +%s)
rc=0; ck crl build > /dev/null 2> "$WORK/err" || rc=$?
took=$(($(date +%s) - start))
assert_eq "$rc" 1 "timed-out publish: exit code"
grep -q "did not finish within 1 s" "$WORK/err" || fail "message: $(cat "$WORK/err")"
[ -e "$WORK/slow.started" ] || fail "the publish command did not run"
none_left "timed-out publish command"
[ "$took" -le 15 ] || fail "the timed-out publish took ${took} s (timeout 1 s + grace 5 s)"
pass "a timed-out publish command is ended with its children, also one ignoring SIGTERM"

# --- certkeeper stopped (SIGTERM) while the publish command runs
sed -i 's/^publish_timeout = .*/publish_timeout = "120s"/' "$H/certkeeper.toml"
rm -f "$WORK/slow.started"
"$CK_BIN" --home "$H" crl build > /dev/null 2>&1 &
CK=$!
started
kill -TERM "$CK"
rc=0; wait "$CK" || rc=$?
assert_eq "$rc" 143 "certkeeper stopped by SIGTERM: exit status"
none_left "certkeeper stopped mid-publish"
pass "SIGTERM to certkeeper ends the command it is running, children included"

# --- a rollout deploy command that times out
test_pki
leaf site "DNS:site.example.test,IP:127.0.0.1"
ck cert import --cert "$WORK/site.pem" --key "$WORK/site.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
cat > "$WORK/plan.toml" <<TOML
[certificate]
name = "site"

[[stage]]
name = "all"
[[stage.target]]
name = "lb"
endpoints = ["127.0.0.1:9@site.example.test"]
[stage.target.deploy]
kind = "command"
command = ["$WORK/slow", "{{fullchain_file}}"]
timeout = "1s"
TOML
rm -f "$WORK/slow.started"
rc=0; ck rollout apply "$WORK/plan.toml" > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "timed-out deploy: exit code"
[ -e "$WORK/slow.started" ] || fail "the deploy command did not run"
grep -q "did not finish within 1 s" "$WORK/err" "$WORK/out" || fail "message: $(cat "$WORK/out" "$WORK/err")"
none_left "timed-out deploy command"
pass "a timed-out rollout deploy command is ended with its children"
