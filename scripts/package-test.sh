#!/bin/bash
# CI: the Debian package as an operator meets it. Packs it from the finished
# build (scripts/build-deb.sh), checks it with lintian (no error, no
# warning), installs it with apt-get, runs `certkeeper --version` and `ca
# init` as the certkeeper user from the installed files, checks the pages,
# completion and units are where man, bash and systemd look, enables a timer
# as an operator would, purges the package and checks that no unit, unit
# link or binary is left (the CA's data stays, by design), then removes
# what the test made. Needs root (or sudo).
# usage: scripts/package-test.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-build}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
ok() { echo "package-test: ok: $*"; }

deb=$(scripts/build-deb.sh "$B" | tail -1)
[ -f "$deb" ] || fail "no package from scripts/build-deb.sh"
lintian --fail-on error,warning "$deb" 2>&1 | grep -v "^running with root" || true
lintian --fail-on error,warning "$deb" > /dev/null 2>&1 || fail "lintian reports errors or warnings"
ok "lintian: no error, no warning ($(basename "$deb"))"

# Only on a machine without certkeeper: this test purges the package and
# removes /var/lib/certkeeper and the certkeeper user at the end, which on a
# real installation would be the CA. (A failed run cleans up after itself.)
if dpkg-query -W -f='${Status}' certkeeper 2>/dev/null | grep -q "installed" || [ -e /var/lib/certkeeper ]; then
  fail "certkeeper is installed here, or /var/lib/certkeeper exists: refusing to test the package on a machine that may hold a real CA"
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$(realpath "$deb")" > /dev/null
cleanup() {
  $SUDO apt-get purge -y -qq certkeeper > /dev/null 2>&1 || true
  $SUDO rm -rf /var/lib/certkeeper
  if getent passwd certkeeper > /dev/null; then $SUDO deluser --quiet --system certkeeper > /dev/null 2>&1 || true; fi
  if getent group certkeeper > /dev/null; then $SUDO delgroup --quiet --system certkeeper > /dev/null 2>&1 || true; fi
}
trap cleanup EXIT

[ "$(command -v certkeeper)" = /usr/bin/certkeeper ] || fail "certkeeper is not /usr/bin/certkeeper"
/usr/bin/certkeeper --version | grep -qx "certkeeper [0-9.]*" || fail "--version"
getent passwd certkeeper | grep -q ":/var/lib/certkeeper:/usr/sbin/nologin$" || fail "the certkeeper user: $(getent passwd certkeeper)"
[ "$(stat -c '%a %U %G' /var/lib/certkeeper)" = "700 certkeeper certkeeper" ] ||
  fail "/var/lib/certkeeper: $(stat -c '%a %U %G' /var/lib/certkeeper)"
$SUDO runuser -u certkeeper -- env CERTKEEPER_HOME=/var/lib/certkeeper /usr/bin/certkeeper ca init --name "Package CA" --no-passphrase > /dev/null
$SUDO runuser -u certkeeper -- /usr/bin/certkeeper --home /var/lib/certkeeper --json ca show |
  grep -q '"name": *"Package CA"' || fail "ca show after ca init"
[ "$($SUDO stat -c '%a %U' /var/lib/certkeeper/certkeeper.db)" = "600 certkeeper" ] || fail "the store's mode and owner"
ok "installed: --version, the certkeeper user, /var/lib/certkeeper 0700, ca init as certkeeper"

man -w certkeeper certkeeper-user > /dev/null || fail "man cannot find the pages"
[ -f /usr/share/bash-completion/completions/certkeeper ] || fail "bash completion"
[ -f /usr/share/zsh/vendor-completions/_certkeeper ] || fail "zsh completion"
[ -f /usr/share/doc/certkeeper/examples/certkeeper.toml ] || fail "the example config"
systemd-analyze verify --man=no /lib/systemd/system/certkeeper-*.service /lib/systemd/system/certkeeper-*.timer \
  /lib/systemd/system/certkeeper-*.path > /tmp/ck-verify.$$ 2>&1 || fail "systemd-analyze verify: $(cat /tmp/ck-verify.$$)"
[ ! -s /tmp/ck-verify.$$ ] || fail "systemd-analyze verify warns: $(cat /tmp/ck-verify.$$)"
rm -f /tmp/ck-verify.$$
ok "pages, completion, example config; the installed units verify"

# An operator enables timers and a service; purge must leave no trace of them.
$SUDO systemctl enable certkeeper-notify.timer certkeeper-crl.timer certkeeper-serve.service > /dev/null 2>&1 ||
  fail "systemctl enable"
[ -L /etc/systemd/system/timers.target.wants/certkeeper-notify.timer ] || fail "enable made no link"
$SUDO apt-get purge -y -qq certkeeper > /dev/null
left=$(find /etc/systemd /lib/systemd /usr/lib/systemd -name 'certkeeper*' 2>/dev/null || true)
[ -z "$left" ] || fail "units left after purge: $left"
[ ! -e /usr/bin/certkeeper ] || fail "the binary is left after purge"
[ -f /var/lib/certkeeper/certkeeper.db ] || fail "purge removed the CA's data"
ok "purged: no unit, no unit link, no binary left; the CA's data kept"
