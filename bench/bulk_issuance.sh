#!/bin/bash
# Bulk issuance (ec-p256): certificates/s through the library's issuance API
# with bundles off, beside openssl speed's keygen+sign ceiling and beside the
# easy-rsa way (a shell loop of `openssl req` + `openssl ca`) over 200
# certificates, all in the same run; then the same with PKCS#12 bundles and
# the share of time PBKDF2 takes.
# usage: bench/bulk_issuance.sh [N]   (from the repository root; default N=5000)
set -euo pipefail
N="${1:-5000}"
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCK_TESTING=OFF -DCK_BENCH=ON >/dev/null
cmake --build build-bench --target ck_bench_issuance >/dev/null
BIN=build-bench/bench/ck_bench_issuance
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT

"$BIN" "$N" > "$W/ck.txt"
ck_rate=$(awk '/^per_second/ {print $2}' "$W/ck.txt")

# openssl speed: ECDSA P-256 signs/s, and ECDH P-256 ops/s as the cost of one
# key generation (one scalar multiplication each); one core, like certkeeper.
openssl speed -seconds 3 ecdsap256 ecdhp256 2>/dev/null > "$W/speed.txt"
sign=$(awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1)}' "$W/speed.txt")
ecdh=$(awk '/256 bits ecdh \(nistp256\)/ {print $NF}' "$W/speed.txt")
ceiling=$(awk -v s="$sign" -v k="$ecdh" 'BEGIN {printf "%.1f", 1 / (1 / s + 1 / k)}')

# The easy-rsa way: one openssl req + openssl ca per certificate.
mkdir -p "$W/ca/newcerts"; cd "$W/ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=Peer \
  -keyout ca.key -out ca.pem 2>/dev/null
touch index.txt; echo 01 > serial
cat > ca.cnf <<CNF
[ca]
default_ca = d
[d]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
certificate = ca.pem
private_key = ca.key
default_md = sha256
default_days = 365
policy = p
unique_subject = no
[p]
commonName = supplied
[ext]
extendedKeyUsage = clientAuth
keyUsage = critical,digitalSignature
CNF
start=$(date +%s.%N)
for i in $(seq 1 200); do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=user$i" \
    -keyout "u$i.key" -out "u$i.csr" 2>/dev/null
  openssl ca -batch -config ca.cnf -extensions ext -in "u$i.csr" -out "u$i.pem" 2>/dev/null
done
loop_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
cd - >/dev/null
loop_rate=$(awk -v s="$loop_s" 'BEGIN {printf "%.1f", 200 / s}')

"$BIN" "$((N / 10 > 200 ? N / 10 : 200))" --bundles > "$W/ck-bundles.txt"
b_rate=$(awk '/^per_second/ {print $2}' "$W/ck-bundles.txt")
share=$(awk '/^pkcs12_share/ {printf "%.0f%%", $2 * 100}' "$W/ck-bundles.txt")

printf '%-52s %12s\n' "what (ec-p256)" "certs/s"
printf '%-52s %12s\n' "certkeeper import_users, bundles off (N=$N)" "$ck_rate"
printf '%-52s %12s\n' "openssl speed keygen+sign ceiling (1 core)" "$ceiling"
printf '%-52s %12s\n' "  (ecdsa sign/s $sign, ecdh op/s $ecdh)" ""
printf '%-52s %12s\n' "shell loop openssl req + openssl ca (200)" "$loop_rate"
printf '%-52s %12s\n' "certkeeper import_users, PKCS#12 bundles on" "$b_rate"
echo
awk -v c="$ck_rate" -v x="$ceiling" -v l="$loop_rate" 'BEGIN {
  printf "certkeeper / ceiling:    %.0f%%   (target >= 50%%)\n", 100 * c / x;
  printf "certkeeper / shell loop: %.0fx    (target >= 100x)\n", c / l }'
echo "with bundles: PKCS#12 (PBKDF2, AES, re-check) takes $share of the time"
# Rows for bench/all.sh (tab-separated, appended to $BENCH_SUMMARY when set).
if [[ -n ${BENCH_SUMMARY:-} ]]; then
  awk -v c="$ck_rate" -v x="$ceiling" -v l="$loop_rate" -v n="$N" -v name="${BENCH_NAME:-bulk_issuance}" 'BEGIN {
    v1 = (100 * c / x >= 50) ? "met" : "MISSED"; v2 = (c / l >= 100) ? "met" : "MISSED";
    printf "%s\tbulk issuance, %d certificates, bundles off\t%s certs/s\topenssl speed ceiling %s/s\t%.0f%% of it\t>= 50%%\t%s\n", name, n, c, x, 100 * c / x, v1;
    printf "%s\tbulk issuance, %d certificates, bundles off\t%s certs/s\tshell loop req+ca %s/s\t%.0fx\t>= 100x\t%s\n", name, n, c, l, c / l, v2 }' >> "$BENCH_SUMMARY"
fi
