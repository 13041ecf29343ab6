#!/usr/bin/env bash
# Onboarding many users with PKCS#12 bundles (issue 22 item 8): `certkeeper
# user import` of N users (bundles and password files written, each file
# durable) against the same command of an earlier certkeeper (BASELINE, the
# binary to beat) and against the openssl shell loop an operator would
# otherwise run (rand + req + ca + pkcs12 -export per user, over
# min(N, 200) users), in the same run, alternating, ROUNDS times each.
# Usage: CERTKEEPER=build/certkeeper BASELINE=/path/to/old/certkeeper \
#        bench/user_import.sh [N] [ROUNDS]   (defaults 2000, 2). Target: >= 3x BASELINE.
# Never fails on timings.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need sqlite3 openssl awk
need_certkeeper

N=${1:-2000}
ROUNDS=${2:-2}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$N'"
LOOP_N=$((N < 200 ? N : 200))

work=
scratch work
csv=$work/users.csv
{
  echo "user,cn,email"
  for ((i = 1; i <= N; i++)); do echo "imp$i,Imported User $i,imp$i@example.org"; done
} >"$csv"

PROBLEMS=()
# import BIN TAG ROUND: one timed import into a fresh home; users/s appended to TAG.rates.
import_once() {
  local bin=$1 tag=$2 r=$3 h=$work/$2-$3
  "$bin" --home "$h" ca init --name Bench --no-passphrase >/dev/null 2>&1 ||
    "$bin" --home "$h" ca init --name Bench >/dev/null 2>&1 || die "$tag: ca init failed"
  M_LOG=$work/$tag.log measure "$bin" --home "$h" user import "$csv" --out "$h/out" --password-file "$h/pw"
  if [[ $M_RC != 0 ]]; then
    PROBLEMS+=("$tag round $r failed: $(tail -n 2 "$work/$tag.log" | tr '\n' ' ')")
    return
  fi
  awk -v n="$N" -v s="$M_SEC" 'BEGIN { printf "%.1f\n", n / s }' >>"$work/$tag.rates"
  openssl pkcs12 -in "$h/out/imp$N.p12" -passin "file:$h/pw/imp$N.pw" -nokeys -clcerts 2>/dev/null |
    openssl verify -CAfile <("$bin" --home "$h" ca show --pem) >/dev/null 2>&1 ||
    PROBLEMS+=("$tag round $r: imp$N.p12 does not open with its password or verify")
  rm -rf "$h"
}

d=$work/openssl-ca
make_openssl_ca "$d"
mkdir -p "$d/out"
loop_once() {
  local o=$d/out t0 t1 i
  t0=$(now_ns)
  for ((i = 1; i <= LOOP_N; i++)); do
    openssl rand -base64 18 >"$o/u$i.pw" &&
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=U $i" \
        -keyout "$o/u$i.key" -out "$o/u$i.csr" 2>/dev/null &&
      SAN=email:u$i@example.org openssl ca -batch -config "$d/ca.cnf" -notext \
        -in "$o/u$i.csr" -out "$o/u$i.crt" 2>/dev/null &&
      openssl pkcs12 -export -inkey "$o/u$i.key" -in "$o/u$i.crt" -certfile "$d/ca.crt" \
        -name "u$i" -out "$o/u$i.p12" -passout "file:$o/u$i.pw" \
        -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -iter 2048 ||
      { PROBLEMS+=("openssl loop failed at user $i"); return; }
  done
  t1=$(now_ns)
  awk -v n="$LOOP_N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", n / ((b - a) / 1e9) }' >>"$work/loop.rates"
  rm -rf "$o" && mkdir -p "$o"
  : >"$d/index.txt"
}

: >"$work/ck.rates"; : >"$work/base.rates"; : >"$work/loop.rates"
for ((r = 1; r <= ROUNDS; r++)); do
  import_once "$CERTKEEPER" ck "$r"
  if [[ -n ${BASELINE:-} ]]; then import_once "$BASELINE" base "$r"; fi
  loop_once
done

best() { sort -n "$1" | tail -n 1; }
ck=$(best "$work/ck.rates"); base=$(best "$work/base.rates"); loop=$(best "$work/loop.rates")
machine_line
echo "users: $N (openssl loop: $LOOP_N), rounds: $ROUNDS, best round of each; bundles + password files, each file durable"
printf '%-58s %10s\n' "what" "users/s"
printf '%-58s %10s\n' "certkeeper user import ($("$CERTKEEPER" --version 2>/dev/null | head -1))" "$ck"
[[ -n $base ]] && printf '%-58s %10s\n' "baseline user import ($("$BASELINE" --version 2>/dev/null | head -1), ${BASELINE})" "$base"
printf '%-58s %10s\n' "openssl shell loop: rand + req + ca + pkcs12 -export" "$loop"
echo
[[ -n $base ]] && echo "certkeeper / baseline:   $(ratio "$ck" "$base")x   (target >= 3x)"
echo "certkeeper / openssl loop: $(ratio "$ck" "$loop")x"
target=""
[[ -n $base ]] && target=$(ratio "$ck" "$base")
summary "user import of $N users with bundles, users/s" "$ck" "openssl loop $loop; baseline ${base:-n/a}" \
  "$(ratio "$ck" "$loop")x loop, ${target:-n/a}x baseline" ">= 3x baseline" \
  "$([[ -n $target ]] && awk -v t="$target" 'BEGIN { print (t >= 3 ? "met" : "MISSED") }' || echo n/a)"
print_problems
