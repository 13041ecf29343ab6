#!/bin/sh
# Fresh Debian 12 machine to a running demo: install packages, build, then
# both runbooks: client certificates (scripts/demo.sh) and a server
# certificate rolled out with Ansible, monit and a maintenance window
# (examples/runbook/run.sh, about 20 s, all on 127.0.0.1).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
scripts/demo.sh build/certkeeper
examples/runbook/run.sh build/certkeeper
