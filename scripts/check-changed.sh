#!/bin/sh
# Style gate on the C++ files a change touches: clang-format-14 --dry-run --Werror on each, and
# clang-tidy-14 (.clang-tidy) on those the build compiles (src/, app/, tests/). The change is
# HEAD against its merge base with origin/main when that remote branch exists and HEAD is not on
# it, else against HEAD~1 (the previous commit on main), so a fresh clone of main checks its last
# commit; uncommitted edits and new files count too. No C++ file changed (or no parent commit):
# nothing to do.
# Needs a configured and built BUILD (compile_commands.json and generated sources).
# Usage: scripts/check-changed.sh [BUILD]   (default build)
set -eu
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
start=$(date +%s)

base=""
if git rev-parse -q --verify origin/main > /dev/null; then
  base=$(git merge-base HEAD origin/main)
  [ "$base" = "$(git rev-parse HEAD)" ] && base=""
fi
if [ -z "$base" ]; then
  base=$(git rev-parse -q --verify 'HEAD~1^{commit}') || {
    echo "check-changed: no parent commit to compare with, nothing to check"
    exit 0
  }
fi
files=$({
  git diff --name-only --diff-filter=d "$base" -- '*.cpp' '*.h'
  git ls-files --others --exclude-standard -- '*.cpp' '*.h'
} | sort -u)
if [ -z "$files" ]; then
  echo "check-changed: no C++ file changed since $(git rev-parse --short "$base")"
  exit 0
fi
n=$(echo "$files" | wc -l)

# shellcheck disable=SC2086
clang-format-14 --dry-run --Werror $files

[ -f "$BUILD/compile_commands.json" ] || {
  echo "check-changed: $BUILD/compile_commands.json is missing (configure and build first)" >&2
  exit 2
}
tidy=$(echo "$files" | grep -E '^(src|app|tests)/' || true)
if [ -n "$tidy" ]; then
  # -quiet: only the findings; WarningsAsErrors in .clang-tidy makes any finding fail.
  echo "$tidy" | xargs -P 2 -n 4 clang-tidy-14 -quiet -p "$BUILD" 2> /dev/null
fi
echo "check-changed: $n file(s) since $(git rev-parse --short "$base") formatted and tidy ($(($(date +%s) - start)) s)"
