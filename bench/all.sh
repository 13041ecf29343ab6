#!/usr/bin/env bash
# Every benchmark in bench/, then one summary table: each figure, its peer in
# the same run, the ratio, the target, met or missed. The table goes to stdout
# and, with the commit id and the machine line, into docs/benchmarks.md between
# the "bench/all.sh summary" markers (unless --no-write).
#
# usage: bench/all.sh [--quick] [--no-write]
#   --quick     smaller sizes, a few minutes in all (the figures say which size)
#   --no-write  print only
# Run it on an otherwise idle machine from the repository root, after
# `cmake --build build` (or with CERTKEEPER=/path). A benchmark that fails is a
# FAILED row and its log is kept; the script itself never fails on a timing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

QUICK=0 WRITE=1
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    --no-write) WRITE=0 ;;
    *) die "unknown option '$arg' (usage: bench/all.sh [--quick] [--no-write])" ;;
  esac
done
need_certkeeper

LOGS=$(mktemp -d "${TMPDIR:-/tmp}/certkeeper-bench-all.XXXXXX")
export BENCH_SUMMARY=$LOGS/summary.tsv
: >"$BENCH_SUMMARY"

# name | command (sizes: quick, full)
if [[ $QUICK == 1 ]]; then
  RUNS=(
    "crl_build|bash bench/crl_build.sh 100000"
    "user_create|bash bench/user_create.sh 10"
    "user_import|bash bench/user_import.sh 500 1"
    "expiring|env RUNS=10 bash bench/expiring.sh 200000"
    "bulk_issuance|bash bench/bulk_issuance.sh 1000"
    "probe|env ENDPOINTS=200 ROUNDS=2 OPENSSL_N=100 bash bench/probe.sh"
    "probe_10k|env INSTANCES=2 bash bench/probe_10k.sh"
    "crl_check|env ROUNDS=3 bash bench/crl_check.sh"
    "verify|env ENDPOINTS=200 ROUNDS=3 bash bench/verify.sh"
    "acme|env N=5 bash bench/acme.sh"
    "serve|env CERTS=20000 USERS=5000 ENDPOINTS=200 WRK_SECONDS=10 bash bench/serve.sh"
    "token_sign|bash bench/token_sign.sh 2"
  )
else
  RUNS=(
    "crl_build|bash bench/crl_build.sh 100000 1000000"
    "user_create|bash bench/user_create.sh 20"
    "user_import|bash bench/user_import.sh 2000 2"
    "expiring|bash bench/expiring.sh 1000000"
    "bulk_issuance|bash bench/bulk_issuance.sh 5000"
    "probe|bash bench/probe.sh"
    "probe_10k|bash bench/probe_10k.sh"
    "crl_check|bash bench/crl_check.sh"
    "verify|bash bench/verify.sh"
    "acme|bash bench/acme.sh"
    "serve|bash bench/serve.sh"
    "token_sign|bash bench/token_sign.sh 5"
  )
fi

MACHINE=$(machine_line)
FAILED=()
for run in "${RUNS[@]}"; do
  name=${run%%|*} cmd=${run#*|}
  note "$name: $cmd (log: $LOGS/$name.log)"
  rows_before=$(wc -l <"$BENCH_SUMMARY")
  # shellcheck disable=SC2086 # the command is one of the fixed lines above
  if ! BENCH_NAME=$name $cmd >"$LOGS/$name.log" 2>&1; then
    FAILED+=("$name")
    printf '%s\t%s\tFAILED (see %s)\t\t\t\tFAILED\n' "$name" "$cmd" "$LOGS/$name.log" >>"$BENCH_SUMMARY"
  elif [[ $(wc -l <"$BENCH_SUMMARY") == "$rows_before" ]]; then
    printf '%s\t%s\tno figure reported (see %s)\t\t\t\tFAILED\n' "$name" "$cmd" "$LOGS/$name.log" \
      >>"$BENCH_SUMMARY"
  fi
done

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
table() {
  echo "bench/all.sh$([[ $QUICK == 1 ]] && echo " --quick"), $(date -u +%Y-%m-%d), commit $COMMIT$DIRTY"
  echo "$MACHINE"
  echo
  echo "| benchmark | figure | certkeeper | peer (same run) | ratio | target | verdict |"
  echo "|---|---|---|---|---|---|---|"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' \
    "$BENCH_SUMMARY"
  local met missed reported
  met=$(awk -F'\t' '$7 == "met"' "$BENCH_SUMMARY" | wc -l)
  missed=$(awk -F'\t' '$7 != "met" && $7 != "reported"' "$BENCH_SUMMARY" | wc -l)
  reported=$(awk -F'\t' '$7 == "reported"' "$BENCH_SUMMARY" | wc -l)
  echo
  echo "$met met, $missed missed or failed, $reported reported without a target."
}
table | tee "$LOGS/table.md"

if [[ $WRITE == 1 ]]; then
  doc=docs/benchmarks.md
  start='<!-- bench/all.sh summary: start -->' end='<!-- bench/all.sh summary: end -->'
  grep -qF "$start" "$doc" && grep -qF "$end" "$doc" || die "$doc lacks the summary markers"
  /usr/bin/python3 - "$doc" "$start" "$end" "$LOGS/table.md" <<'PY'
import sys
doc, start, end, table = sys.argv[1:5]
text = open(doc).read()
head, rest = text.split(start, 1)
_, tail = rest.split(end, 1)
body = open(table).read().rstrip("\n")
open(doc, "w").write(f"{head}{start}\n{body}\n{end}{tail}")
PY
  note "summary written to $doc"
fi
[[ ${#FAILED[@]} -eq 0 ]] || note "failed: ${FAILED[*]} (logs in $LOGS)"
