#!/usr/bin/env bash
# One user's client certificate and PKCS#12 bundle: `certkeeper user create`
# against the openssl shell pipeline (openssl rand + req + ca + pkcs12 -export),
# median of RUNS runs each, in the same run. Usage: bench/user_create.sh [RUNS]
# (default 20). Never fails on timings.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need sqlite3 openssl awk
need_certkeeper

RUNS=${1:-20}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"

work=
scratch work
h=$work/home
d=$work/openssl-ca
mkdir -p "$h" "$d"
certkeeper_home "$h" # CA made once (ec-p256) and one user u0
make_openssl_ca "$d" # EC P-256 CA made once
mkdir -p "$d/out"

PROBLEMS=()

# One certkeeper run: a fresh user name each time, same home.
ck_once() {
  local i=$1
  "$CERTKEEPER" --home "$h" user create "u$i" --cn U --email u@example.org --out "$h/out" \
    --password-file "$h/pw$i"
}

# One peer run: what an operator types for one user with an `openssl ca` CA.
peer_once() {
  local i=$1 o=$d/out
  openssl rand -base64 18 >"$o/u$i.pw" &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj "/CN=U" -keyout "$o/u$i.key" -out "$o/u$i.csr" &&
    SAN=email:u@example.org openssl ca -batch -config "$d/ca.cnf" -notext \
      -in "$o/u$i.csr" -out "$o/u$i.crt" &&
    openssl pkcs12 -export -inkey "$o/u$i.key" -in "$o/u$i.crt" -certfile "$d/ca.crt" \
      -name "u$i" -out "$o/u$i.p12" -passout "file:$o/u$i.pw" \
      -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -iter 2048
}

# Alternate the two so drifting machine load hits both alike; one untimed
# warm-up run of each first.
ck_once w >/dev/null 2>"$work/ck.err" || die "certkeeper user create failed: $(tail -n 3 "$work/ck.err")"
peer_once w >/dev/null 2>"$work/peer.err" || die "openssl pipeline failed: $(tail -n 3 "$work/peer.err")"
: >"$work/ck.ms"
: >"$work/peer.ms"
ck_fail=0 peer_fail=0
# timed_run FN TAG NAME I: one timed run of FN appended to TAG.ms; a failure
# is counted in TAG_fail and reported under Problems.
timed_run() {
  local t0 t1
  t0=$(now_ns)
  if "$1" "$4" >/dev/null 2>"$work/$2.err"; then
    t1=$(now_ns)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e6 }' >>"$work/$2.ms"
  else
    printf -v "${2}_fail" %s "$(( ${2}_fail + 1 ))"
    PROBLEMS+=("$3 run $4 failed: $(tail -n 2 "$work/$2.err" | tr '\n' ' ')")
  fi
}
for ((i = 1; i <= RUNS; i++)); do
  timed_run ck_once ck certkeeper "$i"
  timed_run peer_once peer openssl "$i"
done

# Check one result of each: the bundle opens with its password and holds the
# certificate, which verifies against its CA.
check_p12() { # P12 PWFILE CA
  openssl pkcs12 -in "$1" -passin "file:$2" -nokeys -clcerts 2>/dev/null |
    openssl verify -CAfile "$3" >/dev/null 2>&1
}
ca_pem=$work/ck-ca.pem
"$CERTKEEPER" --home "$h" ca show --pem >"$ca_pem" 2>/dev/null || true
check_p12 "$h/out/u1.p12" "$h/pw1" "$ca_pem" || PROBLEMS+=("certkeeper's u1.p12 did not open with pw1 or verify against the CA")
check_p12 "$d/out/u1.p12" "$d/out/u1.pw" "$d/ca.crt" || PROBLEMS+=("openssl's u1.p12 did not open or verify")
ck_p12=$(openssl pkcs12 -info -noout -in "$h/out/u1.p12" -passin "file:$h/pw1" 2>&1 | grep -m1 -E '^MAC' || true)
peer_p12=$(openssl pkcs12 -info -noout -in "$d/out/u1.p12" -passin "file:$d/out/u1.pw" 2>&1 | grep -m1 -E '^MAC' || true)

# Peak RSS of one more run each.
M_LOG=/dev/null measure "$CERTKEEPER" --home "$h" user create urss --cn U --email u@example.org \
  --out "$h/out" --password-file "$h/pwrss"
ck_mib=$(kib_to_mib "$M_KIB")
M_LOG=/dev/null measure openssl pkcs12 -export -inkey "$d/out/u1.key" -in "$d/out/u1.crt" \
  -certfile "$d/ca.crt" -out "$d/out/rss.p12" -passout "file:$d/out/u1.pw" \
  -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -iter 2048
peer_mib=$(kib_to_mib "$M_KIB")

ck_med=FAILED ck_mm="- -" peer_med=FAILED peer_mm="- -" r=n/a
[[ -s $work/ck.ms ]] && ck_med=$(median_ms "$work/ck.ms") ck_mm=$(minmax_ms "$work/ck.ms")
[[ -s $work/peer.ms ]] && peer_med=$(median_ms "$work/peer.ms") peer_mm=$(minmax_ms "$work/peer.ms")
[[ $ck_med != FAILED && $peer_med != FAILED ]] && r=$(ratio "$peer_med" "$ck_med")

echo "user create (ec-p256, PKCS#12 AES-256): median of $RUNS runs each, alternating, wall clock (date +%s%N)"
machine_line
echo
echo '| runs | certkeeper median ms | certkeeper min..max ms | certkeeper MiB | openssl pipeline median ms | openssl min..max ms | openssl pkcs12 step MiB | ratio (openssl/ck) |'
echo '|-----:|---------------------:|-----------------------:|---------------:|---------------------------:|--------------------:|------------------------:|-------------------:|'
printf '| %4s | %20s | %22s | %14s | %26s | %19s | %24s | %18s |\n' \
  "$RUNS" "$ck_med" "${ck_mm/ /..}" "$ck_mib" "$peer_med" "${peer_mm/ /..}" "$peer_mib" "$r"
echo
echo "certkeeper: certkeeper --home H user create uI --cn U --email u@example.org --out H/out --password-file H/pwI"
echo "peer:       openssl rand -base64 18 >pw; openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=U ...;"
echo "            openssl ca -batch -config ca.cnf -notext ... (SAN email, clientAuth); openssl pkcs12 -export"
echo "            -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -iter 2048"
echo "bundles:    certkeeper $ck_p12 | openssl $peer_p12"
print_target 30 "$ck_med" "one user create (median of $RUNS)" "openssl req+ca+pkcs12 $peer_med ms" "${r}x"
print_problems
