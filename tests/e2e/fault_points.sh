#!/bin/bash
# The registry of crash points: every CK_FAULT_POINT("area.step") in src/ is
# read from the code, and each one must be
#   - a literal name of the form area.step, used once (a test can aim at it),
#   - killed at by a recovery test: its name on a line of tests/e2e/*.sh that
#     kills there (`crash POINT`, `crash_*  POINT`, `CERTKEEPER_FAULT=POINT`, or
#     a `for point in ...` list that a crash call then walks),
#   - listed in docs/architecture.md with its documented recovery.
# Every file that writes to the store or writes a file in place must declare
# points (or be named below with the reason it has none). So a new write path
# without points, or a point without a recovery test, fails here.
. "$(dirname "$0")/lib.sh" "$1"
ROOT="$(realpath "$(dirname "$0")/../..")"
SRC="$ROOT/src"
DOC="$ROOT/docs/architecture.md"

# Files that write but need no points of their own, and why.
declare -A EXEMPT=(
  [core/file_io.cpp]="defines write_file_atomic; its callers declare points"
  [rollout/file_backup.cpp]="restore() is called by rollout rollback, whose points cover it"
  [ca/user_lease.cpp]="the per-user lease; a dead holder's lease is taken over (e2e.user_lease)"
  [ca/ca_setup.cpp]="ca init is one transaction: killed, nothing is stored and init runs again"
  [ca/user_edit.cpp]="user edit is one transaction and writes no file: killed, nothing changed and it runs again"
  [ca/crl_reconcile.cpp]="store reconcile is one transaction and writes no file: killed, nothing changed and it runs again"
  [ca/check_canaries.cpp]="crl check records its canary in one transaction before using it: killed before, nothing was stored or shown to a server; after, the next CRL lists a canary nobody used"
  [acme/solver.cpp]="writes the http-01 challenge file, which the next run writes again"
  [cli/cmd_meta.cpp]="__man writes the manual pages at build time, each atomically; a rerun writes them all again"
)

problems=()
# Points must be written as literals: a computed name cannot be enumerated.
while IFS= read -r line; do
  problems+=("not a literal area.step name: $line")
done < <(grep -rn 'CK_FAULT_POINT(' "$SRC" --include='*.cpp' --include='*.h' \
  | grep -v "^$SRC/core/fault.h:" | grep -vE 'CK_FAULT_POINT\("[a-z0-9_]+\.[a-z0-9_]+"\)')

POINTS=$(grep -rhoE 'CK_FAULT_POINT\("[a-z0-9_]+\.[a-z0-9_]+"\)' "$SRC" | sed -E 's/.*\("(.*)"\)/\1/' | sort)
[ -n "$POINTS" ] || fail "no fault points found under $SRC"
for dup in $(echo "$POINTS" | uniq -d); do problems+=("$dup is declared more than once"); done

# The lines of the e2e scripts that kill at a point (continued lines joined).
KILLS=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$ROOT"/tests/e2e/*.sh | grep -hE '(^|[^a-z_])crash[a-z_]* |CERTKEEPER_FAULT=|for point in ' | grep -v '^ *#')
for p in $(echo "$POINTS" | uniq); do
  re="(^|[^a-z0-9_.])${p//./\\.}([^a-z0-9_.]|$)"
  echo "$KILLS" | grep -qE "$re" || problems+=("$p: no recovery test kills there (tests/e2e/*.sh)")
  grep -qE "\`$p\`" "$DOC" || problems+=("$p: not listed in docs/architecture.md (crash guarantees)")
done

# Every write path declares points.
while IFS= read -r f; do
  rel="${f#"$SRC"/}"
  grep -q 'CK_FAULT_POINT("' "$f" && continue
  [ -n "${EXEMPT[$rel]+x}" ] && continue
  problems+=("$rel writes (store transaction or file) but declares no CK_FAULT_POINT")
done < <(grep -rlE 'store_\.write\(\)|->write\(\)|write_file_atomic\(' "$SRC" --include='*.cpp')
for rel in "${!EXEMPT[@]}"; do
  [ -e "$SRC/$rel" ] || problems+=("exempt file $rel no longer exists: drop it from the list")
done

if [ ${#problems[@]} -gt 0 ]; then
  printf '  %s\n' "${problems[@]}" >&2
  fail "${#problems[@]} fault-point problem(s)"
fi
pass "$(echo "$POINTS" | wc -l) fault points, each killed by a recovery test and documented"
