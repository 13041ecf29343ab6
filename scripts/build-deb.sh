#!/bin/sh
# Packs the Debian package from a finished build (no second compile): the
# build is configured for /usr (units in /lib/systemd/system, as Debian 12
# keeps them), then CPack runs the install rules into the package.
# usage: scripts/build-deb.sh [BUILD_DIR]   → BUILD_DIR/package/certkeeper_*.deb
set -eu
cd "$(dirname "$0")/.."
B="${1:-build}"
cmake -S . -B "$B" -DCMAKE_INSTALL_PREFIX=/usr -DCK_SYSTEMD_UNIT_DIR=/lib/systemd/system > /dev/null
cmake --build "$B"
rm -rf "$B/package"
(cd "$B" && cpack -G DEB > /dev/null)
ls "$B"/package/certkeeper_*.deb
