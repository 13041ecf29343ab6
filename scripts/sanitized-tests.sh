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
# So are three whose time is another program's: e2e.serve_pages (Chromium
# renders serve's pages; serve's code runs here in serve_api, serve_metrics
# and serve_tls), e2e.command_timeout (commands that sleep until killed; the
# subprocess code runs in every rollout and hook test) and e2e.runbook_acme
# (pebble's orders and a rollout; its certkeeper paths are those of e2e.acme
# and e2e.rollout_apply).
# The build merges each service module into one compile (CK_UNITY): a third
# less time from cold, as CI builds it; cli/ and the tests compile per file.
# usage: scripts/sanitized-tests.sh [extra ctest arguments, e.g. -R e2e.probe]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCK_SANITIZE=ON -DCK_WERROR=ON -DCK_UNITY=ON \
  ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} > /dev/null
cmake --build build-asan --target certkeeper certkeeper-faults ck_unit_tests
rm -rf build-asan/sanitizer && mkdir -p build-asan/sanitizer
rc=0
ctest --test-dir build-asan -L '^(unit|e2e)$' -E '^e2e\.(runbook_(ansible|demo|acme)|crash_rollout|serve_pages|command_timeout)$' --output-on-failure -j2 "$@" ||
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
