#!/bin/bash
# Every unit and end-to-end test against an ASan+UBSan build (build-asan/).
# A sanitizer report makes the test that caused it fail (exit 86); any report
# written at all (tests/CMakeLists.txt sets log_path) fails this script too
# and is shown, so one in a child process whose exit code a test ignores is
# not lost.
# The runbook's Ansible and demo tests are left out: their time is Ansible's
# (Python), and the certkeeper paths they drive (command targets, hooks, pins,
# output tails) are the ones e2e.rollout_apply and e2e.runbook_acme run here.
# The e2e_pg.* runs (the same scripts over PostgreSQL) are left out too: the
# code they add is the libpq store, which the unit contract tests run here.
# So is e2e.crash_rollout: it kills the rollout paths of e2e.rollout_apply
# (which runs here) at each fault point, dozens of runs, and under ASan it
# was the longest test by far (252 s of a 9.5 min run, 2026-12-03).
# usage: scripts/sanitized-tests.sh [extra ctest arguments, e.g. -R e2e.probe]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCK_SANITIZE=ON -DCK_WERROR=ON \
  ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} > /dev/null
cmake --build build-asan --target certkeeper certkeeper-faults ck_unit_tests
rm -rf build-asan/sanitizer && mkdir -p build-asan/sanitizer
rc=0
ctest --test-dir build-asan -L '^(unit|e2e)$' -E '^e2e\.(runbook_(ansible|demo)|crash_rollout)$' --output-on-failure -j2 "$@" ||
  rc=$?
if compgen -G 'build-asan/sanitizer/report*' > /dev/null; then
  for f in build-asan/sanitizer/report*; do
    echo "=== sanitizer report $f"
    head -60 "$f"
  done
  echo "sanitized-tests: sanitizer reports above" >&2
  exit 1
fi
exit "$rc"
