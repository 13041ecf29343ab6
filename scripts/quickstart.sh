#!/bin/sh
# Fresh Debian 12 machine to a running demo: install packages, build, demo.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
scripts/demo.sh build/certkeeper
