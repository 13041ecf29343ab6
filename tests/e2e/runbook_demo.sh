#!/bin/bash
# The README's quick start also runs examples/runbook/run.sh: it must run to
# the end, leave every node aligned and monit content, and tear everything
# down (no node, monit or stand-in left running, its folder removed).
. "$(dirname "$0")/lib.sh" "$1"
for tool in nginx ansible-playbook monit; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh)"
done
rc=0; TMPDIR="$WORK" "$(dirname "$0")/../../examples/runbook/run.sh" "$CK_BIN" > "$WORK/run.out" 2>&1 || rc=$?
assert_eq "$rc" 0 "run.sh ($(tail -5 "$WORK/run.out"))"
assert_eq "$(grep -c '^3 of 3 endpoints aligned$' "$WORK/run.out")" 1 "every node aligned at the end"
assert_eq "$(grep -c '^  node[123] OK' "$WORK/run.out")" 3 "monit: every node OK"
assert_eq "$(grep -c '^  PUT /maintenance_windows/PW[12] certificate rollout ended: \(partial\|done\)$' "$WORK/run.out")" 2 \
  "a maintenance window per apply, outcome written"
if ls -d "$WORK"/certkeeper-runbook.* 2>/dev/null; then fail "run.sh left its folder"; fi
if pgrep -f "$WORK/certkeeper-runbook" > /dev/null; then fail "run.sh left processes: $(pgrep -af "$WORK/certkeeper-runbook")"; fi
pass "the runbook demo runs to the end and tears down ($(grep -c '^# ' "$WORK/run.out") steps)"
# setup-nodes writes its paths into nginx, monit, TOML and shell files as they
# are: a path with a space is refused with a line naming it, nothing written.
rc=0; "$(dirname "$0")/../../examples/runbook/setup-nodes" "$WORK/a b" /dev/null /dev/null /dev/null 1 2 3 2> "$WORK/err" || rc=$?
assert_eq "$rc" 2 "a root with a space: usage error"
grep -q "setup-nodes: '$WORK/a b': use a path of letters" "$WORK/err" || fail "setup-nodes: $(cat "$WORK/err")"
[ ! -e "$WORK/a b" ] || fail "setup-nodes wrote under a refused root"
pass "setup-nodes refuses a root it could not write safely"
