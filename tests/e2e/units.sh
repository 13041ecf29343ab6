#!/bin/bash
# The systemd units the build writes (build/systemd, as the package ships
# them): each passes `systemd-analyze verify` (with ExecStart pointed at the
# built binary, which verify requires to exist), each certkeeper unit rates
# "OK" in `systemd-analyze security` (exposure at most 2.0: the scores are in
# docs/operations.md), every unit runs as the certkeeper user with the home
# that the package makes, and the example config agrees with them: what it
# has certkeeper write ([crl] out) is in the units' ReadWritePaths, and the
# nginx reload path unit watches that file.
. "$(dirname "$0")/lib.sh" "$1"
command -v systemd-analyze > /dev/null || fail "systemd-analyze is not installed (scripts/install-deps.sh)"
UNITS="$(dirname "$CK_BIN")/systemd"
EXAMPLE="$(dirname "$0")/../../examples/certkeeper.toml"
[ -d "$UNITS" ] || fail "no $UNITS (the build writes it)"
mkdir -p "$WORK/units"
cp "$UNITS"/* "$WORK/units/"
sed -i "s#^ExecStart=[^ ]*/certkeeper #ExecStart=$CK_BIN #" "$WORK/units"/*.service
cd "$WORK/units"
units=$(ls)
for want in certkeeper-notify.timer certkeeper-crl.timer certkeeper-acme-renew.timer \
  certkeeper-observe.service certkeeper-serve.service certkeeper-nginx-reload.path; do
  echo "$units" | grep -qx "$want" || fail "no $want"
done
systemd-analyze verify --man=no $units > "$WORK/verify.out" 2>&1 || fail "systemd-analyze verify: $(cat "$WORK/verify.out")"
[ ! -s "$WORK/verify.out" ] || fail "systemd-analyze verify warns: $(cat "$WORK/verify.out")"
pass "systemd-analyze verify: $(echo $units | wc -w) units, no warning"

for u in *.service; do
  score=$(systemd-analyze security --offline=true "$u" 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  [ -n "$score" ] || fail "$u: no security score"
  echo "  $u: exposure $score"
  [ "$u" = certkeeper-nginx-reload.service ] && continue  # root: it asks systemd to reload nginx
  awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "$u: exposure $score above 2.0"
  grep -qx "User=certkeeper" "$u" || fail "$u: not as the certkeeper user"
  grep -qx "Environment=CERTKEEPER_HOME=/var/lib/certkeeper" "$u" || fail "$u: home"
  grep -qx "ReadWritePaths=/var/lib/certkeeper" "$u" || fail "$u: ReadWritePaths"
  grep -qx "ProtectSystem=strict" "$u" || fail "$u: ProtectSystem"
done
pass "every certkeeper service: the certkeeper user, its home, exposure at most 2.0"

# The example config's CRL file is where the units may write and the path
# unit looks.
out=$(/usr/bin/python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["crl"]["out"])' "$EXAMPLE")
for u in certkeeper-crl.service; do
  ok=0
  for p in $(sed -n 's/^ReadWritePaths=//p' "$u"); do
    case "$out" in "$p"/*) ok=1 ;; esac
  done
  [ "$ok" = 1 ] || fail "$u cannot write the example's [crl] out ($out)"
done
assert_eq "$(sed -n 's/^PathChanged=//p' certkeeper-nginx-reload.path)" "$out" "the reload path unit watches [crl] out"
pass "examples/certkeeper.toml: [crl] out ($out) is writable by the units and watched by the reload path"
