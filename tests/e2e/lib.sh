# Shared helpers for the end-to-end tests. Usage: . lib.sh CERTKEEPER_BINARY
# No pipefail: `producer | grep -q` must not fail when grep stops reading early.
set -eu
# Never a person's terminal on stdin: certkeeper asks for passphrases there
# (ca_passphrase.sh gives it a pseudo-terminal of its own when it should).
exec < /dev/null
CK_BIN="$(realpath "$1")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ck-e2e.XXXXXX")"
H="$WORK/home"
CLEANUP_CMDS=()
cleanup() {
  local c
  for c in "${CLEANUP_CMDS[@]+"${CLEANUP_CMDS[@]}"}"; do eval "$c" || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The CA key: in the store by default; with CK_E2E_CA_KEY=pkcs11 (the
# e2e_hsm.* tests) in a softhsm2 token of the test's own: `ck ca init` makes
# it there (--key-uri), and every command finds the module and the PIN in the
# environment, so the same script proves the same outcomes with every
# signature (and every CRL canary opened) going through the token.
token_ca() { [ "${CK_E2E_CA_KEY:-}" = pkcs11 ]; }
if token_ca; then
  mkdir -p "$WORK/softhsm-tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$WORK/softhsm-tokens" > "$WORK/softhsm2.conf"
  export SOFTHSM2_CONF="$WORK/softhsm2.conf" CERTKEEPER_PKCS11_PIN=1234
  export CERTKEEPER_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so
  [ -f "$CERTKEEPER_PKCS11_MODULE" ] || { echo "FAIL: no softhsm2 (apt-get install softhsm2)" >&2; exit 1; }
  softhsm2-util --init-token --free --label ck-e2e --pin 1234 --so-pin 5678 > /dev/null
fi
# A test's CA key is stored unencrypted unless the script sets
# CERTKEEPER_CA_PASSPHRASE: `ca init` and `ca import` refuse to do that
# without a terminal unless told (--no-passphrase; ca_passphrase.sh tests the
# refusal and the terminal), so `ck` says it for them.
ck_new_ca_args() {
  [ -z "${CERTKEEPER_CA_PASSPHRASE:-}" ] && ! token_ca || return 0
  local prev="" a
  for a in "$@"; do
    if [ "$prev" = ca ] && { [ "$a" = init ] || [ "$a" = import ]; }; then
      echo --no-passphrase
      return
    fi
    prev="$a"
  done
}
ck() {
  if token_ca && [ "${1:-}" = ca ] && [ "${2:-}" = init ]; then
    "$CK_BIN" --home "$H" "$@" --key-uri "pkcs11:token=ck-e2e;object=ca-$RANDOM$RANDOM"
  else
    # shellcheck disable=SC2046 # one word or none
    "$CK_BIN" --home "$H" "$@" $(ck_new_ca_args "$@")
  fi
}
# The store: SQLite in the home by default; with CK_E2E_STORE=postgresql (the
# e2e_pg.* tests) a database of its own on the server of the CTest fixture
# "postgres" (tests/pg/server.sh), migrated, and dropped at the end. Every
# command finds it through CERTKEEPER_STORE.
pg_store() { [ "${CK_E2E_STORE:-sqlite}" = postgresql ]; }
if pg_store; then
  PG_BASE=$(cat "${CK_TEST_POSTGRES_DIR:?the e2e_pg tests run through ctest (fixture postgres)}/url")
  PG_DB="ck_e2e_$$_${RANDOM}"
  psql -qX "$PG_BASE/postgres" -c "CREATE DATABASE $PG_DB" > /dev/null
  CLEANUP_CMDS+=("psql -qX '$PG_BASE/postgres' -c 'DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)' > /dev/null 2>&1")
  export CERTKEEPER_STORE="$PG_BASE/$PG_DB"
  "$CK_BIN" store migrate > /dev/null
  # SQLite's hex() for the scripts' queries (a test database only).
  psql -qX "$CERTKEEPER_STORE" -c "CREATE FUNCTION hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE AS \$\$ SELECT upper(encode(\$1, 'hex')) \$\$" > /dev/null
fi
# use_home DIR: the commands that follow work on home DIR (H=DIR); on
# PostgreSQL with a database of that home's own (made and migrated on first
# use, dropped at the end), so a script with several homes (several CAs)
# runs on both stores.
declare -A PG_HOME_DB=()
use_home() {
  H="$1"
  pg_store || return 0
  if [ -z "${PG_HOME_DB[$1]:-}" ]; then
    if [ "${#PG_HOME_DB[@]}" = 0 ]; then
      PG_HOME_DB[$WORK/home]="$CERTKEEPER_STORE"  # the script's first home
    fi
    if [ -z "${PG_HOME_DB[$1]:-}" ]; then
      local db="${PG_DB}_h${#PG_HOME_DB[@]}"
      psql -qX "$PG_BASE/postgres" -c "CREATE DATABASE $db" > /dev/null
      CLEANUP_CMDS+=("psql -qX '$PG_BASE/postgres' -c 'DROP DATABASE IF EXISTS $db WITH (FORCE)' > /dev/null 2>&1")
      PG_HOME_DB[$1]="$PG_BASE/$db"
      CERTKEEPER_STORE="$PG_BASE/$db" "$CK_BIN" store migrate > /dev/null
      psql -qX "$PG_BASE/$db" -c "CREATE FUNCTION hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE AS \$\$ SELECT upper(encode(\$1, 'hex')) \$\$" > /dev/null
    fi
  fi
  export CERTKEEPER_STORE="${PG_HOME_DB[$1]}"
}
# db_sql SQL: runs SQL on the test's store (SQLite or PostgreSQL), rows as
# lines, columns separated by '|'.
db_sql() {
  if pg_store; then psql -qAtX "$CERTKEEPER_STORE" -c "$1"; else sqlite3 "$H/certkeeper.db" "$1"; fi
}
# db_backup FILE / db_restore FILE: a copy of the current home's store, and
# the store put back as that copy was (no command may be running).
db_backup() {
  if pg_store; then pg_dump -Fc -f "$1" "$CERTKEEPER_STORE"; else sqlite3 "$H/certkeeper.db" ".backup '$1'"; fi
}
db_restore() {
  if pg_store; then
    pg_restore --clean --if-exists --single-transaction -d "$CERTKEEPER_STORE" "$1"
  else
    sqlite3 "$H/certkeeper.db" ".restore '$1'"
  fi
}
# unhex: hex digits on stdin (as db_sql "SELECT hex(BLOB) ..." prints them)
# as the bytes they stand for on stdout.
unhex() { /usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))'; }
# db_sql_script FILE SQL: FILE becomes an executable script that runs SQL on
# the current home's store, for a hook the binary runs (it passes no store
# URL to its children).
db_sql_script() {
  if pg_store; then
    printf '#!/bin/bash
exec psql -qAtX %q -c %q\n' "$CERTKEEPER_STORE" "$2" > "$1"
  else
    printf '#!/bin/bash
exec sqlite3 %q %q\n' "$H/certkeeper.db" "$2" > "$1"
  fi
  chmod +x "$1"
}
# Against an ASan+UBSan build (CK_SANITIZED=1, set by tests/CMakeLists.txt
# with CK_SANITIZE) peak RSS counts the sanitizer's shadow memory and
# quarantine, and `ulimit -v` breaks its shadow mapping: checks of memory use
# step aside there, and every check of behaviour stays.
sanitized() { [ -n "${CK_SANITIZED:-}" ]; }
# rss_below KIB MEASURED WHAT: fails unless MEASURED (KiB) is below KIB.
rss_below() {
  if sanitized; then pass "$3: peak RSS not judged under ASan"; return; fi
  [ "$2" -lt "$1" ] || fail "$3 peaked at $2 KiB (limit $1 KiB)"
}
fail() { echo "FAIL: $*" >&2; if declare -F on_fail >/dev/null; then on_fail >&2 || true; fi; exit 1; }
pass() { echo "ok: $*"; }
assert_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
# A logical dump of the store, to prove a failed command changed nothing.
# A home without a store dumps as "(no store)" (sqlite3 must not create one).
db_dump() {
  # pg_dump 15.14+ brackets its output with \restrict KEY, a new key each run.
  # A failed pg_dump prints a line no other dump has, so two never compare equal.
  if pg_store; then
    pg_dump --data-only --inserts -O -x "$CERTKEEPER_STORE" > "$WORK/pg_dump.out" 2> "$WORK/pg_dump.err" ||
      { echo "pg_dump failed ($RANDOM$RANDOM): $(cat "$WORK/pg_dump.err")"; return; }
    # counters.changes counts write transactions (serve's poll), a failed
    # command's lease taken and given back among them: not state.
    grep -v "^--\|^SET \|^SELECT pg_catalog\|^$\|^.restrict \|^.unrestrict \|^INSERT INTO public.counters VALUES ('changes'" \
      "$WORK/pg_dump.out"
  elif [ -e "$H/certkeeper.db" ]; then sqlite3 "$H/certkeeper.db" .dump; else echo "(no store)"; fi
}
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
crl_number() { printf "%d" "$(openssl crl -in "$1" -noout -crlnumber | cut -d= -f2)"; }
# Verifies a certificate against the CA and a CRL; prints OK or the error.
# crl_user_serials CRL [HOME]: the CRL's serials as openssl prints them, sorted,
# without certkeeper's CRL canaries (those HOME's store recorded; $H by default).
crl_user_serials() {
  local canaries
  if pg_store && [ -z "${2:-}" ]; then
    canaries=$(db_sql "SELECT hex(serial) FROM crl_canaries")
  else
    canaries=$(sqlite3 "${2:-$H}/certkeeper.db" "SELECT hex(serial) FROM crl_canaries" 2>/dev/null || true)
  fi
  openssl crl -in "$1" -noout -text | awk '/Serial Number:/ {print $3}' \
    | { grep -vxF -f <(printf '%s\n' "${canaries:-none}") || true; } | sort
}
verify_crl() { { openssl verify -crl_check -CAfile "$WORK/ca.pem" -CRLfile "$2" "$1" 2>&1 || true; } | tail -1; }
# openssl verify output (never fails, so it can be grepped under pipefail).
verify_out() { openssl verify -crl_check -CAfile "$WORK/ca.pem" -CRLfile "$2" "$1" 2>&1 || true; }

# key_iterations: the PBKDF2 iteration count of the encrypted PKCS#8 PEM on
# stdin, by openssl asn1parse ("none" when there is none).
key_iterations() {
  local hex
  hex=$(openssl asn1parse 2>/dev/null | awk '/:PBKDF2/ { f = 1 } f && /INTEGER/ { sub(/.*:/, ""); print; exit }')
  if [ -n "$hex" ]; then echo $((16#$hex)); else echo none; fi
}
# store_key_as_before TABLE WHERE: the key stored in that row, encrypted again
# the way earlier versions did: same key, same passphrase
# ($CERTKEEPER_CA_PASSPHRASE), OpenSSL's default 2,048 PBKDF2 iterations.
store_key_as_before() {
  db_sql "SELECT key_pem FROM $1 WHERE $2" > "$WORK/key-now.pem"
  openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 2048 -passin env:CERTKEEPER_CA_PASSPHRASE \
    -passout env:CERTKEEPER_CA_PASSPHRASE -in "$WORK/key-now.pem" -out "$WORK/key-before.pem"
  # A PEM holds no quote: a plain SQL string literal, on either store.
  db_sql "UPDATE $1 SET key_pem = '$(cat "$WORK/key-before.pem")' WHERE $2"
}

# expect_error NAME NEEDLE -- command...: exit 1, one stderr line naming NEEDLE, store unchanged.
expect_error() {
  local name="$1" needle="$2"; shift 3
  local before after rc=0
  before=$(db_dump)
  "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
  after=$(db_dump)
  [ "$rc" = 1 ] || fail "$name: exit code $rc, want 1 (stderr: $(cat "$WORK/err"))"
  [ "$(wc -l < "$WORK/err")" = 1 ] || fail "$name: want one stderr line, got: $(cat "$WORK/err")"
  grep -q "^certkeeper: error: " "$WORK/err" || fail "$name: message format: $(cat "$WORK/err")"
  grep -qF -- "$needle" "$WORK/err" || fail "$name: message does not name '$needle': $(cat "$WORK/err")"
  [ "$before" = "$after" ] || fail "$name: the store changed"
  pass "$name: $(cat "$WORK/err")"
}

# start_server NAME DIR -- command...: starts a test server that writes its
# port to DIR/port, waits for it, registers its stop; sets ${NAME}_PID and
# ${NAME}_PORT.
start_server() {
  local name="$1" dir="$2" pid i
  shift 3
  mkdir -p "$dir"; rm -f "$dir/port"
  "$@" > "$dir/server.log" 2>&1 &
  pid=$!
  CLEANUP_CMDS+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
  for i in $(seq 1 100); do
    [ -s "$dir/port" ] && break
    kill -0 "$pid" 2>/dev/null || fail "$name did not start: $(cat "$dir/server.log")"
    sleep 0.1
  done
  [ -s "$dir/port" ] || fail "$name did not start within 10 s"
  printf -v "${name}_PID" '%s' "$pid"
  printf -v "${name}_PORT" '%s' "$(cat "$dir/port")"
}
# stop_server PID: stops a server started with start_server.
stop_server() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# nginx_preamble DIR: the top of a test nginx.conf (foreground, pid and error
# log under DIR, root-safe user, temp paths under DIR, since the defaults are
# system folders); the caller adds `events` and the rest of `http`.
nginx_preamble() {
  cat <<CONF
daemon off;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/logs/error.log info;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
CONF
}
nginx_temp_paths() {
  printf '  client_body_temp_path %s/tmp/client_body;\n  proxy_temp_path %s/tmp/proxy;\n' "$1" "$1"
  printf '  fastcgi_temp_path %s/tmp/fastcgi;\n  uwsgi_temp_path %s/tmp/uwsgi;\n  scgi_temp_path %s/tmp/scgi;\n' "$1" "$1" "$1"
}
# nginx_tls_conf DIR PORT CERT KEY: DIR/nginx.conf for one TLS server on
# 127.0.0.1:PORT serving CERT (with whatever chain follows it in the file).
nginx_tls_conf() {
  { nginx_preamble "$1"; cat <<CONF
events { worker_connections 64; }
http {
  access_log off;
$(nginx_temp_paths "$1")
  server {
    listen 127.0.0.1:$2 ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $3;
    ssl_certificate_key $4;
    location / { return 200 "ok\n"; }
  }
}
CONF
  } > "$1/nginx.conf"
}
# start_nginx_on_a_port DIR CAFILE SCHEME HTTP_FN: starts nginx with the
# `http` block's own lines from `HTTP_FN PORT` on a random port (another one
# if it is taken), and waits for SCHEME://127.0.0.1:PORT/; sets PORT, NGINX_PID.
start_nginx_on_a_port() {
  local attempt
  for attempt in 1 2 3 4 5 6 7 8; do
    PORT=$(( 20000 + RANDOM % 12000 ))
    { nginx_preamble "$1"; echo "events { worker_connections 64; }"; echo "http {"
      nginx_temp_paths "$1"; "$4" "$PORT"; echo "}"; } > "$1/nginx.conf"
    launch_nginx "$1" "$2" "$3://127.0.0.1:$PORT/" && return 0
  done
  cat "$1/logs/error.log" "$1/logs/stdout.log" >&2
  fail "nginx did not start"
}
# launch_nginx DIR CAFILE URL: starts nginx with DIR/nginx.conf, registers its
# stop, and waits until URL answers over TLS; sets NGINX_PID. Returns 1 (nginx
# stopped) when it does not come up, so the caller can retry on other ports.
launch_nginx() {
  nginx -p "$1" -c "$1/nginx.conf" > "$1/logs/stdout.log" 2>&1 &
  NGINX_PID=$!
  CLEANUP_CMDS+=("kill $NGINX_PID 2>/dev/null; wait $NGINX_PID 2>/dev/null")
  for _ in $(seq 1 50); do
    if curl -s -o /dev/null --cacert "$2" "$3" 2>/dev/null; then return 0; fi
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true
  return 1
}

# nginx_mtls_server PORT DIR: an nginx `server` block on 127.0.0.1:PORT serving
# DIR/server.pem (server_pki), requiring a client certificate from
# $WORK/ca.pem, revocation from $WORK/ca.crl; answers "hello DN".
nginx_mtls_server() {
  cat <<CONF
  server {
    listen 127.0.0.1:$1 ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $2/server.pem;
    ssl_certificate_key $2/server.key;
    ssl_client_certificate $WORK/ca.pem;
    ssl_crl $WORK/ca.crl;
    ssl_verify_client on;
    location / { return 200 "hello \$ssl_client_s_dn\n"; }
  }
CONF
}
# nginx_reload PID: SIGHUP to nginx's master PID; returns once its old
# workers (which keep the old configuration and CRL) are gone.
nginx_reload() {
  local old w alive
  old=$(pgrep -P "$1" || true)
  kill -HUP "$1"
  for _ in $(seq 1 100); do
    alive=0
    for w in $old; do kill -0 "$w" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
}

# server_pki DIR: a throwaway CA (DIR/sca.pem, what clients trust) and a P-256
# server certificate from it for localhost and 127.0.0.1 (DIR/server.pem, .key).
server_pki() {
  mkdir -p "$1"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=server-ca \
    -keyout "$1/sca.key" -out "$1/sca.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout "$1/server.key" -out "$1/server.csr" 2>/dev/null
  openssl x509 -req -in "$1/server.csr" -CA "$1/sca.pem" -CAkey "$1/sca.key" -CAcreateserial -days 2 \
    -extfile <(printf "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth") \
    -out "$1/server.pem" 2>/dev/null
}

# test_pki: a root ($WORK/root.pem, what a client trusts) and an intermediate
# under it ($WORK/inter.pem, .key) that issues leaves: servers must send it.
test_pki() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj "/CN=certkeeper e2e root" -keyout "$WORK/root.key" -out "$WORK/root.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=certkeeper e2e intermediate" -keyout "$WORK/inter.key" -out "$WORK/inter.csr" 2>/dev/null
  openssl x509 -req -in "$WORK/inter.csr" -CA "$WORK/root.pem" -CAkey "$WORK/root.key" \
    -CAserial "$WORK/pki.srl" -CAcreateserial -days 365 -out "$WORK/inter.pem" -extfile \
    <(printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n') 2>/dev/null
}
# leaf NAME SAN: a P-256 server certificate from the intermediate, $WORK/NAME.pem
# and .key, for SAN ("DNS:site.example.test,IP:127.0.0.1"); its CN is the first name.
leaf() {
  local cn="${2%%,*}"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${cn#*:}" \
    -keyout "$WORK/$1.key" -out "$WORK/$1.csr" 2>/dev/null
  openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/inter.pem" -CAkey "$WORK/inter.key" \
    -CAserial "$WORK/pki.srl" -days 90 -out "$WORK/$1.pem" -extfile \
    <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$2") 2>/dev/null
}
# client_accepts PORT NAME: a client that trusts only the root and checks
# NAME (openssl s_client -verify_return_error) completes the handshake; its
# output is in $WORK/s_client.log.
client_accepts() {
  openssl s_client -connect "127.0.0.1:$1" -servername "$2" -verify_hostname "$2" \
    -CAfile "$WORK/root.pem" -verify_return_error < /dev/null > "$WORK/s_client.log" 2>&1
}

# start_serve LOG ARGS...: starts `certkeeper serve` on a free loopback port, waits for
# its "serving on" line; sets SERVE_PID, URL. (serve_api.sh and serve_tls.sh have their own.)
start_serve() {
  local log="$1"; shift
  "$CK_BIN" --home "$H" serve --listen 127.0.0.1:0 "$@" > "$log" 2>&1 &
  SERVE_PID=$!
  CLEANUP_CMDS+=("kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null")
  for _ in $(seq 100); do
    URL=$(sed -n 's#^certkeeper: serving on \(https\?://127.0.0.1:[0-9]*\)/ .*#\1#p' "$log")
    [ -n "$URL" ] && return 0
    kill -0 $SERVE_PID 2>/dev/null || fail "serve did not start: $(cat "$log")"
    sleep 0.1
  done
  fail "serve did not print its address: $(cat "$log")"
}

# pebble_config DIR ACME_PORT MGMT_PORT HTTP_PORT TLS_PORT: DIR/config.json for
# Debian's pebble on 127.0.0.1, with its own TLS certificate (DIR/tls.pem,
# what clients pass as --ca-bundle; Debian's pebble ships none).
pebble_config() {
  mkdir -p "$1"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=pebble-test \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$1/tls.key" -out "$1/tls.pem" 2>/dev/null
  cat > "$1/config.json" <<JSON
{ "pebble": { "listenAddress": "127.0.0.1:$2", "managementListenAddress": "127.0.0.1:$3",
  "certificate": "$1/tls.pem", "privateKey": "$1/tls.key", "httpPort": $4, "tlsPort": $5,
  "ocspResponderURL": "", "externalAccountBindingRequired": false } }
JSON
}
