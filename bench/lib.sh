# shellcheck shell=bash disable=SC2034  # (M_* are results for the sourcing script)
# Shared helpers for the benchmark scripts in bench/. Sourced, not run.
#
# Environment:
#   CERTKEEPER  the binary to measure (default: build/certkeeper of this repository)
#   KEEP=1      keep the scratch folders (their paths are printed) instead of removing them

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CERTKEEPER=${CERTKEEPER:-$BENCH_ROOT/build/certkeeper}

die() {
  echo "bench: error: $*" >&2
  exit 1
}

note() {
  echo "bench: $*" >&2
}

# need TOOL... : fail with the Debian package to install when a tool is missing.
need() {
  local tool
  for tool in "$@"; do
    case $tool in
      /usr/bin/time) [[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install -y --no-install-recommends time)" ;;
      *) command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y --no-install-recommends $tool)" ;;
    esac
  done
}

need_certkeeper() {
  [[ -x $CERTKEEPER ]] || die "no certkeeper binary at $CERTKEEPER (build it, or set CERTKEEPER=/path/to/certkeeper)"
  # Copy the binary aside so a concurrent rebuild cannot swap it mid-run.
  local copy
  copy=$(mktemp /tmp/certkeeper-bench-bin.XXXXXX)
  cp "$CERTKEEPER" "$copy"
  chmod 0755 "$copy"
  BENCH_CLEANUP+=("$copy")
  CERTKEEPER=$copy
}

# Scratch folders are removed on exit unless KEEP=1.
BENCH_CLEANUP=()
bench_cleanup() {
  local p
  if [[ ${KEEP:-0} == 1 ]]; then
    for p in "${BENCH_CLEANUP[@]}"; do note "kept $p"; done
    return
  fi
  for p in "${BENCH_CLEANUP[@]}"; do rm -rf -- "$p"; done
}
trap bench_cleanup EXIT

# scratch VAR : a new scratch folder (removed on exit) in VAR. Not used as
# $(scratch): a command substitution is a subshell and would lose the cleanup.
scratch() {
  local d
  d=$(mktemp -d /tmp/certkeeper-bench.XXXXXX)
  BENCH_CLEANUP+=("$d")
  printf -v "$1" '%s' "$d"
}

now_ns() { date +%s%N; }

# measure CMD... : runs CMD once under `/usr/bin/time -f '%e %M'` and sets
#   M_SEC  wall seconds with three decimals (nanosecond clock around the call;
#          /usr/bin/time's own %e has only two decimals and is kept in M_E)
#   M_E    /usr/bin/time %e
#   M_KIB  peak resident set size in KiB (/usr/bin/time %M)
#   M_RC   the command's exit status
# The command's stdout and stderr go to $M_LOG (a file in the current scratch dir).
measure() {
  local tf t0 t1
  tf=$(mktemp /tmp/certkeeper-bench-time.XXXXXX)
  BENCH_CLEANUP+=("$tf")
  M_LOG=${M_LOG:-/dev/null}
  t0=$(now_ns)
  set +e
  /usr/bin/time -f '%e %M' -o "$tf" "$@" >"$M_LOG" 2>&1
  M_RC=$?
  set -e
  t1=$(now_ns)
  M_SEC=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  read -r M_E M_KIB < <(tail -n 1 "$tf")
}

kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ratio A B: A / B with two decimals ("n/a" when B is 0 or missing).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

# median_ms FILE: median of the numbers (milliseconds), one per line.
median_ms() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    if (NR % 2) printf "%.1f", v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# minmax_ms FILE: "min max" of the numbers.
minmax_ms() { sort -n "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f %.1f", lo, hi }'; }

# le A B: exit status 0 when A <= B (numbers).
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# summary FIGURE CERTKEEPER PEER RATIO TARGET VERDICT: one row of bench/all.sh's
# table (tab-separated, after $BENCH_NAME), appended to $BENCH_SUMMARY when it
# is set; a no-op when a script runs on its own.
summary() {
  [[ -n ${BENCH_SUMMARY:-} ]] || return 0
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${BENCH_NAME:-$(basename "$0" .sh)}" "$@" >>"$BENCH_SUMMARY"
}

# verdict VALUE LIMIT: "met" or "MISSED".
verdict() { if le "$1" "$2"; then echo met; else echo MISSED; fi; }

machine_line() {
  local model
  model=$(lscpu 2>/dev/null | awk -F: '/Model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }')
  echo "machine: $(nproc) cores, ${model:-unknown CPU}; $("$CERTKEEPER" --version 2>/dev/null || echo certkeeper); $(openssl version | cut -d' ' -f1-2); sqlite3 $(sqlite3 --version | cut -d' ' -f1); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# The peer's client-certificate extensions take the e-mail subjectAltName from
# $SAN (the config file refers to it as $ENV::SAN, so it must always be set).
export SAN=${SAN:-email:u@example.org}

# make_openssl_ca DIR : an `openssl ca` directory with an EC P-256 CA made
# by `openssl req -x509`, an empty index.txt, serial and crlnumber files and
# DIR/ca.cnf (copy_extensions none, client-certificate extensions, CRL with AKI).
make_openssl_ca() {
  local d=$1
  mkdir -p "$d/newcerts"
  : >"$d/index.txt"
  echo 'unique_subject = no' >"$d/index.txt.attr"
  echo 01 >"$d/crlnumber"
  openssl rand -hex 16 | tr a-f A-F >"$d/serial"
  cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default

[ CA_default ]
dir              = $d
database         = \$dir/index.txt
new_certs_dir    = \$dir/newcerts
certificate      = \$dir/ca.crt
private_key      = \$dir/ca.key
serial           = \$dir/serial
crlnumber        = \$dir/crlnumber
default_md       = sha256
default_days     = 365
default_crl_days = 7
unique_subject   = no
rand_serial      = yes
policy           = policy_any
x509_extensions  = client_ext
crl_extensions   = crl_ext
copy_extensions  = none
email_in_dn      = no

[ policy_any ]
commonName   = supplied
emailAddress = optional

[ client_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = \$ENV::SAN

[ crl_ext ]
authorityKeyIdentifier = keyid:always

[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = Bench
[ v3_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
EOF
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -config "$d/ca.cnf" -extensions v3_ca -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
}

# certkeeper_home DIR : `ca init --name Bench` and one `user create u0` (user id 1).
certkeeper_home() {
  local h=$1
  "$CERTKEEPER" --home "$h" ca init --name Bench --no-passphrase >/dev/null 2>&1 || die "certkeeper ca init failed in $h"
  "$CERTKEEPER" --home "$h" user create u0 --cn U --email u@example.org --out "$h/out" >/dev/null 2>&1 ||
    die "certkeeper user create u0 failed in $h"
  [[ $(sqlite3 "$h/certkeeper.db" 'SELECT id FROM users WHERE name = '\''u0'\''') == 1 ]] ||
    die "expected user u0 to have id 1 in $h/certkeeper.db"
}

# yymmdd EPOCH : the UTCTime form index.txt uses (YYMMDDHHMMSSZ).
yymmdd() { date -u -d "@$1" +%y%m%d%H%M%SZ; }

# print_target LIMIT_MS MEDIAN [FIGURE PEER RATIO]: the closing target line of a
# timing table, and its summary row.
print_target() {
  if [[ $2 == FAILED ]]; then
    echo "Target: certkeeper <= $1 ms: FAILED (no timing)"
    summary "${3:-}" "FAILED" "${4:-}" "${5:-n/a}" "<= $1 ms" "FAILED"
  else
    echo "Target: certkeeper <= $1 ms: $2 ms ($(verdict "$2" "$1"))"
    summary "${3:-}" "$2 ms" "${4:-}" "${5:-n/a}" "<= $1 ms" "$(verdict "$2" "$1")"
  fi
}

# print_problems: the PROBLEMS array, if any, under a heading.
print_problems() {
  if [[ ${#PROBLEMS[@]} -gt 0 ]]; then
    echo
    echo "Problems:"
    for p in "${PROBLEMS[@]}"; do echo "  $p"; done
  fi
}

# start_tls_fleet DIR N BASE_PORT : in DIR (the current folder), a throwaway CA
# (ca.pem), an ECDSA P-256 server certificate for 127.0.0.1/localhost
# (server.pem, server.key) and one nginx listening on N ports from BASE_PORT
# (ssl_protocols TLSv1.2 TLSv1.3). Sets FLEET_PID (the master) and FLEET_PIDS
# (master and workers, comma-separated). The caller stops FLEET_PID.
# FLEET_SERVER_EXTRA: more directives for the server block (e.g. client
# certificate checks).
start_tls_fleet() {
  local dir=$1 n=$2 base=$3 p listens=""
  (( base + n <= 32768 )) || die "ports must stay below 32768 (the ephemeral range)"
  mkdir -p "$dir/logs" "$dir/tmp"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=bench-ca \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
    -extfile <(printf "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth") \
    -out "$dir/server.pem" 2>/dev/null
  for ((p = base; p < base + n; p++)); do listens+="    listen 127.0.0.1:$p ssl;"$'\n'; done
  cat > "$dir/nginx.conf" <<CONF
daemon off;
worker_processes auto;
worker_rlimit_nofile 16384;
pid $dir/nginx.pid;
error_log $dir/logs/error.log crit;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/client_body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_certificate $dir/server.pem;
  ssl_certificate_key $dir/server.key;
  server {
$listens${FLEET_SERVER_EXTRA:-}
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/logs/nginx.out" 2>&1 &
  FLEET_PID=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --cacert "$dir/ca.pem" "https://127.0.0.1:$((base + n - 1))/" && break
    sleep 0.1
  done
  FLEET_PIDS="$FLEET_PID,$(pgrep -d, -P "$FLEET_PID")"
}

# build_bench_tool TARGET : builds a program of bench/CMakeLists.txt in
# build-bench (Release, no tests) and prints its path.
build_bench_tool() {
  cmake -S "$BENCH_ROOT" -B "$BENCH_ROOT/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCK_TESTING=OFF -DCK_BENCH=ON >/dev/null || die "cannot configure build-bench"
  cmake --build "$BENCH_ROOT/build-bench" --target "$1" >/dev/null || die "cannot build $1"
  echo "$BENCH_ROOT/build-bench/bench/$1"
}
