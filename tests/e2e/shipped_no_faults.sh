#!/bin/bash
# The binary users install cannot be killed or paused through the environment:
# CERTKEEPER_FAULT and CERTKEEPER_FAULT_PAUSE reach only certkeeper-faults, the
# crash tests' build of the same objects. The fault build is run first at the
# same point, so this test cannot pass because the point is gone or renamed.
# Usage: shipped_no_faults.sh CERTKEEPER CERTKEEPER_FAULTS
. "$(dirname "$0")/lib.sh" "$1"
FAULTS="$(realpath "$2")"
count_users() { sqlite3 "$H/certkeeper.db" "SELECT count(*) FROM users WHERE name = '$1'"; }

ck ca init --name "E2E CA" > /dev/null 2>&1

# The fault build dies at create.before_commit and stores nothing.
rc=0
CERTKEEPER_FAULT=create.before_commit "$FAULTS" --home "$H" user create f1 --cn F1 \
  --email f1@example.org --out "$WORK/b" > /dev/null 2>&1 || rc=$?
[ "$rc" = 137 ] || fail "certkeeper-faults: expected SIGKILL (137) at create.before_commit, got $rc"
assert_eq "$(count_users f1)" 0 "certkeeper-faults killed before commit: users named f1"

# The shipped binary runs through the same point and stores the user.
rc=0
CERTKEEPER_FAULT=create.before_commit ck user create s1 --cn S1 --email s1@example.org \
  --out "$WORK/b" --password-file "$WORK/s1.pw" > /dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "certkeeper with CERTKEEPER_FAULT=create.before_commit: exit $rc, want 0"
assert_eq "$(count_users s1)" 1 "certkeeper ignored CERTKEEPER_FAULT: users named s1"
openssl pkcs12 -in "$WORK/b/s1.p12" -passin "file:$WORK/s1.pw" -nokeys -noout 2> /dev/null \
  || fail "certkeeper ignored CERTKEEPER_FAULT: s1.p12 does not open"
pass "certkeeper ignores CERTKEEPER_FAULT; certkeeper-faults is killed there"

# CERTKEEPER_FAULT_PAUSE: the fault build waits at the point (announcing it),
# the shipped binary neither waits nor creates the announcement.
GATE="$WORK/gate"
CERTKEEPER_FAULT_PAUSE="crl.after_commit:$GATE" "$FAULTS" --home "$H" crl build \
  --out "$WORK/f.crl" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do [ -e "$GATE.waiting" ] && break; sleep 0.05; done
[ -e "$GATE.waiting" ] || fail "certkeeper-faults did not stop at crl.after_commit"
touch "$GATE"
wait "$pid" || fail "certkeeper-faults crl build failed after the gate opened"
rm -f "$GATE" "$GATE.waiting"
rc=0
CERTKEEPER_FAULT_PAUSE="crl.after_commit:$GATE" timeout 20 "$CK_BIN" --home "$H" crl build \
  --out "$WORK/s.crl" > /dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "certkeeper with CERTKEEPER_FAULT_PAUSE: exit $rc, want 0"
[ ! -e "$GATE.waiting" ] || fail "certkeeper stopped at crl.after_commit (CERTKEEPER_FAULT_PAUSE)"
openssl crl -in "$WORK/s.crl" -noout 2> /dev/null || fail "certkeeper's CRL does not parse"
pass "certkeeper ignores CERTKEEPER_FAULT_PAUSE; certkeeper-faults stops there"
