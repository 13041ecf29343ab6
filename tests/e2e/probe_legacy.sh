#!/bin/bash
# What a scanner meets in the field stays readable: TLS 1.0- and 1.1-only
# servers, RSA key exchange, a self-signed and an expired certificate, a
# server that refuses the SNI name, one that demands a client certificate and
# ends the handshake without one. Each is reported with its facts and the
# reason, against openssl s_server.
. "$(dirname "$0")/lib.sh" "$1"
rows() { /usr/bin/python3 -c "
import json, sys
by, rs = {}, []
for l in sys.stdin:
    if l.strip():
        r = json.loads(l); by[r['target']] = r; rs.append(r)
print(eval(sys.argv[1]))" "$1"; }

L="$WORK/legacy"; mkdir -p "$L"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=legacy -addext "subjectAltName=IP:127.0.0.1,DNS:legacy.test" \
  -keyout "$L/rsa.key" -out "$L/rsa.pem" 2>/dev/null
# Issued 30 days ago for 2 days: expired.
faketime -f '-30d' openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=old \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$L/old.key" -out "$L/old.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=other \
  -addext "subjectAltName=DNS:other.test" -keyout "$L/other.key" -out "$L/other.pem" 2>/dev/null

serve() {  # serve PORT ARGS...: openssl s_server on 127.0.0.1:PORT
  local port=$1; shift
  openssl s_server -accept "127.0.0.1:$port" "$@" -www -quiet > "$WORK/s_server.$port.log" 2>&1 &
  CLEANUP_CMDS+=("stop_server $!")
}
P=17711
serve $P -cert "$L/rsa.pem" -key "$L/rsa.key" -tls1 -cipher 'DEFAULT@SECLEVEL=0'
serve $((P + 1)) -cert "$L/rsa.pem" -key "$L/rsa.key" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
serve $((P + 2)) -cert "$L/rsa.pem" -key "$L/rsa.key" -tls1_2 -cipher 'AES128-SHA'
serve $((P + 3)) -cert "$L/old.pem" -key "$L/old.key"
# SNI: "legacy.test" gets the second certificate; any other name a fatal alert.
serve $((P + 4)) -cert "$L/other.pem" -key "$L/other.key" -cert2 "$L/rsa.pem" -key2 "$L/rsa.key" \
  -servername legacy.test -servername_fatal
serve $((P + 5)) -cert "$L/rsa.pem" -key "$L/rsa.key" -tls1_2 -Verify 1 -verify_return_error -CAfile "$L/other.pem"
for port in $(seq $P $((P + 5))); do
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1
  done
done

ck --json probe --timeout 3s "127.0.0.1:$P" "127.0.0.1:$((P + 1))" "127.0.0.1:$((P + 2))" \
  "127.0.0.1:$((P + 3))" "127.0.0.1:$((P + 4))@nobody.test" "127.0.0.1:$((P + 4))@legacy.test" \
  "127.0.0.1:$((P + 5))" > "$WORK/all.json" || true
t() { echo "127.0.0.1:$1"; }
assert_eq "$(rows "(by['$(t $P)']['ok'], by['$(t $P)']['tls_version'], by['$(t $P)']['subject'])" < "$WORK/all.json")" \
  "(True, 'TLSv1', 'CN=legacy')" "a TLS 1.0-only server"
assert_eq "$(rows "(by['$(t $((P + 1)))']['ok'], by['$(t $((P + 1)))']['tls_version'])" < "$WORK/all.json")" \
  "(True, 'TLSv1.1')" "a TLS 1.1-only server"
assert_eq "$(rows "(by['$(t $((P + 2)))']['tls_version'], by['$(t $((P + 2)))']['cipher'])" < "$WORK/all.json")" \
  "('TLSv1.2', 'AES128-SHA')" "RSA key exchange"
assert_eq "$(rows "(by['$(t $P)']['verified'], by['$(t $P)']['verify_error'])" < "$WORK/all.json")" \
  "(False, 'self-signed certificate')" "self-signed: reported, not trusted"
assert_eq "$(rows "(by['$(t $((P + 3)))']['ok'], by['$(t $((P + 3)))']['days_left'] < 0, by['$(t $((P + 3)))']['verify_error'])" < "$WORK/all.json")" \
  "(True, True, 'self-signed certificate')" "expired: its dates are reported (days_left < 0)"
assert_eq "$(rows "by['$(t $((P + 4)))@legacy.test']['subject']" < "$WORK/all.json")" "CN=legacy" "the SNI name gets its certificate"
assert_eq "$(rows "(by['$(t $((P + 4)))@nobody.test']['ok'], by['$(t $((P + 4)))@nobody.test']['phase'])" < "$WORK/all.json")" \
  "(False, 'handshake')" "an unknown SNI name is refused"
rows "by['$(t $((P + 4)))@nobody.test']['error']" < "$WORK/all.json" | grep -q "fatal TLS alert: unrecognized name" \
  || fail "the reason names the alert: $(rows "by['$(t $((P + 4)))@nobody.test']['error']" < "$WORK/all.json")"
assert_eq "$(rows "(by['$(t $((P + 5)))']['ok'], by['$(t $((P + 5)))']['client_certificate']['requested'], by['$(t $((P + 5)))']['client_certificate']['sent'])" < "$WORK/all.json")" \
  "(False, True, False)" "a client certificate demanded: asked, none sent, the handshake ended"
rows "by['$(t $((P + 5)))']['error']" < "$WORK/all.json" | grep -q "fatal TLS alert: handshake failure" \
  || fail "the reason: $(rows "by['$(t $((P + 5)))']['error']" < "$WORK/all.json")"
assert_eq "$(rows "by['$(t $((P + 5)))']['client_certificate']['acceptable_cas']" < "$WORK/all.json")" "['CN=other']" "the CA it asks for"
# openssl agrees on the versions.
openssl s_client -connect "127.0.0.1:$P" -tls1 -cipher 'DEFAULT@SECLEVEL=0' < /dev/null 2>/dev/null | grep -q "Protocol *: TLSv1$" \
  || fail "s_client does not see TLS 1.0 on $P"
pass "TLS 1.0/1.1-only, RSA key exchange, self-signed, expired, SNI refused, client certificate demanded: facts and reasons"

# An intermediate that expires before the leaf: every endpoint serving that
# chain reports the intermediate's notAfter as its chain's earliest, the
# second and later ones from the scan's verification cache too.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=chain-root \
  -keyout "$L/croot.key" -out "$L/croot.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=chain-inter \
  -keyout "$L/cinter.key" -out "$L/cinter.csr" 2>/dev/null
openssl x509 -req -in "$L/cinter.csr" -CA "$L/croot.pem" -CAkey "$L/croot.key" -CAcreateserial -days 2 \
  -out "$L/cinter.pem" -extfile <(printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n') 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=chained \
  -keyout "$L/cleaf.key" -out "$L/cleaf.csr" 2>/dev/null
openssl x509 -req -in "$L/cleaf.csr" -CA "$L/cinter.pem" -CAkey "$L/cinter.key" -CAcreateserial -days 20 \
  -out "$L/cleaf.pem" -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') 2>/dev/null
C=$((P + 6))
serve $C -cert "$L/cleaf.pem" -key "$L/cleaf.key" -cert_chain "$L/cinter.pem"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$C") 2>/dev/null && break; sleep 0.1; done
inter_end=$(date -u -d "$(openssl x509 -in "$L/cinter.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
ck --json probe --threads 1 --concurrency 1 --ca-file "$L/croot.pem" "127.0.0.1:$C" "127.0.0.1:$C" "127.0.0.1:$C" > "$WORK/chain.json"
assert_eq "$(rows "sorted({(r['verified'], r['chain_not_after']) for r in rs})" < "$WORK/chain.json")" \
  "[(True, '$inter_end')]" "every probe of the chain: verified, the intermediate's notAfter"
pass "the chain's earliest notAfter is the intermediate's, from the cache too ($inter_end)"
