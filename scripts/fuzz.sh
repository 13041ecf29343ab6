#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cpp) with clang-14 and
# ASan+UBSan in build-fuzz/, then runs each for SECONDS (default 30) on its
# seed corpus (tests/fuzz/corpus/TARGET) and its regression inputs
# (tests/fuzz/regressions/TARGET). Exits non-zero if any target crashes,
# leaks, times out on one input or fails an assertion, and prints the path
# of the input that did it.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   CK_FUZZ_BUILD   build folder (default build-fuzz)
#   CK_FUZZ_JOBS    parallel compile jobs, and targets fuzzed at once (default 2)
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD="${CK_FUZZ_BUILD:-build-fuzz}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac

# Leaks are findings too; a failed UBSan check stops the run (-fno-sanitize-recover).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# fuzz_one SECONDS TARGET: one built target's regression inputs, then fuzzing;
# prints one line (and the crash details on failure), exits non-zero on a finding.
fuzz_one() {
  secs=$1 t=$2
  work="$BUILD/fuzz-work/$t"
  rm -rf "$work/crashes"
  mkdir -p "$work/corpus" "$work/crashes"
  : > "$work/log"
  bin="$BUILD/tests/fuzz/${t}_fuzz"
  opts="-timeout=10 -rss_limit_mb=2048 -artifact_prefix=$work/crashes/"
  rc=0
  # Every input that once crashed, whole and once each (some are far longer
  # than what the fuzzer makes up: they stay out of its corpus).
  if [ -d "tests/fuzz/regressions/$t" ]; then
    # shellcheck disable=SC2086
    "$bin" $opts -runs=0 "tests/fuzz/regressions/$t" >> "$work/log" 2>&1 || rc=$?
  fi
  # Then fuzzing; the first folder receives what the run finds new, the
  # committed seeds are only read.
  if [ "$rc" -eq 0 ]; then
    # shellcheck disable=SC2086
    "$bin" $opts -max_total_time="$secs" -print_final_stats=1 "$work/corpus" \
      "tests/fuzz/corpus/$t" >> "$work/log" 2>&1 || rc=$?
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz.sh: $t: ok (${execs:-?} runs)"
    return 0
  fi
  {
    echo "fuzz.sh: $t: FAILED (exit $rc); log: $work/log"
    grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|certkeeper: internal error)" "$work/log" | head -n 5 || true
    for f in "$work"/crashes/*; do
      [ -e "$f" ] && echo "fuzz.sh: $t: crashing input: $f (keep it in tests/fuzz/regressions/$t/)"
    done
  } >&2
  return 1
}

# The worker xargs starts below: one target.
if [ "${1:-}" = "--one" ]; then
  fuzz_one "$2" "$3"
  exit $?
fi
SECS="${1:-30}"
[ $# -gt 0 ] && shift
case "$SECS" in '' | *[!0-9]*)
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
  ;;
esac
command -v clang++-14 >/dev/null || {
  echo "fuzz.sh: clang++-14 is missing (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
}

if [ $# -gt 0 ]; then
  TARGETS="$*"
else
  TARGETS=$(cd tests/fuzz && ls ./*_fuzz.cpp | sed 's|^\./||; s|_fuzz\.cpp$||')
fi

LAUNCHER=""
command -v ccache >/dev/null && LAUNCHER="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache"
start=$(date +%s)
# shellcheck disable=SC2086
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD" -G Ninja -DCK_FUZZ=ON -DCMAKE_BUILD_TYPE= \
  $LAUNCHER >/dev/null
bins=""
for t in $TARGETS; do bins="$bins ${t}_fuzz"; done
# shellcheck disable=SC2086
cmake --build "$BUILD" -j "${CK_FUZZ_JOBS:-2}" --target $bins
echo "fuzz.sh: built in $(($(date +%s) - start)) s; ${SECS} s per target"

# CK_FUZZ_JOBS targets at once (each fuzzer is one process on one core).
status=0
# shellcheck disable=SC2086
printf '%s\n' $TARGETS | xargs -P "${CK_FUZZ_JOBS:-2}" -I{} "$ROOT/scripts/fuzz.sh" --one "$SECS" {} || status=1
echo "fuzz.sh: done in $(($(date +%s) - start)) s"
exit "$status"
