#!/bin/bash
# The CA key in a PKCS#11 token: signatures/s and certificates/s through
# softhsm2 (OpenSSL's pkcs11 engine, as certkeeper signs) beside the same key
# type in software, one thread each, in the same run. No target: the figure
# says what a token costs (issue 21).
# usage: bench/token_sign.sh [SECONDS_EACH]   (from the repository root; default 3)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SECONDS_EACH="${1:-3}"
MODULE=/usr/lib/softhsm/libsofthsm2.so
need softhsm2-util
[[ -f $MODULE ]] || die "no $MODULE: apt-get install softhsm2 libengine-pkcs11-openssl"
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCK_TESTING=OFF -DCK_BENCH=ON >/dev/null
cmake --build build-bench --target ck_bench_token >/dev/null
BIN=build-bench/bench/ck_bench_token
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir "$W/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$W/tokens" \
  > "$W/softhsm2.conf"
export SOFTHSM2_CONF="$W/softhsm2.conf" CERTKEEPER_PKCS11_PIN=1234
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 > /dev/null
"$BIN" "$MODULE" bench "$SECONDS_EACH" > "$W/out.txt"

printf '%-10s %-9s %14s %14s\n' "key" "where" "signatures/s" "certs/s"
awk '{ printf "%-10s %-9s %14s %14s\n", $1, $2, $4, $6 }' "$W/out.txt"
echo
for kt in ec-p256 rsa-2048; do
  sw_sig=$(awk -v k="$kt" '$1 == k && $2 == "software" {print $4}' "$W/out.txt")
  tk_sig=$(awk -v k="$kt" '$1 == k && $2 == "token" {print $4}' "$W/out.txt")
  sw_crt=$(awk -v k="$kt" '$1 == k && $2 == "software" {print $6}' "$W/out.txt")
  tk_crt=$(awk -v k="$kt" '$1 == k && $2 == "token" {print $6}' "$W/out.txt")
  echo "$kt: token/software signatures $(ratio "$tk_sig" "$sw_sig"), certificates $(ratio "$tk_crt" "$sw_crt")"
  summary "$kt signatures/s, softhsm2 token (1 thread)" "$tk_sig/s" "software key $sw_sig/s" \
    "$(ratio "$tk_sig" "$sw_sig")" "-" reported
  summary "$kt client certificates/s, softhsm2 token (1 thread)" "$tk_crt/s" \
    "software key $sw_crt/s" "$(ratio "$tk_crt" "$sw_crt")" "-" reported
done
