#!/bin/sh
# Installs the Debian 12 packages certkeeper builds and tests with.
set -eu
PKGS="build-essential cmake ninja-build pkg-config libssl-dev openssl libsqlite3-dev sqlite3
  libcli11-dev nlohmann-json3-dev libexpected-dev libtomlplusplus-dev libkainjow-mustache-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev libc-ares-dev libcpp-httplib-dev
  nginx curl faketime procps python3 python3-aiosmtpd pebble clang-14 libclang-rt-14-dev
  clang-tidy-14 clang-format-14 prometheus prometheus-node-exporter wrk chromium ansible-core monit
  libpq-dev postgresql-15 libp11-kit-dev softhsm2 opensc libengine-pkcs11-openssl
  man-db zsh lintian systemd"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
