#!/bin/sh
# Regenerates the seed corpora of the fuzz targets (tests/fuzz/corpus/TARGET/)
# from the test fixtures (tests/data/gen.sh), the examples and the openssl
# CLI: a few small, valid inputs per parser for libFuzzer to mutate. The
# seeds are committed; run this again when a parser learns a new form.
# Usage: scripts/make-fuzz-corpus.sh
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
C="$ROOT/tests/fuzz/corpus"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rm -rf "$C"
for t in acme_json cert config crl csv der duration index log_custom log_default log_format plan \
  starttls target; do
  mkdir -p "$C/$t"
done

# The unit tests' own fixtures, made fresh by their script.
mkdir "$T/data"
cp tests/data/gen.sh "$T/data/"
(cd "$T/data" && sh ./gen.sh)

# --- certificates, keys, CSRs (cert) ---
cp "$T/data/fixture.pem" "$C/cert/fixture.pem"
cp "$T/data/fixture.der" "$C/cert/fixture.der"
cp "$T/data/fixture.key" "$C/cert/fixture.key"
cp "$T/data/fixture-encrypted.key" "$C/cert/fixture-encrypted.key"
cat "$T/data/fixture.pem" "$T/data/fixture.pem" > "$C/cert/chain.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/C=DE/O=Example, Inc./OU=Ops+Dev/CN=www.example.org/emailAddress=ops@example.org" \
  -addext "subjectAltName=DNS:www.example.org,DNS:*.example.org,IP:192.0.2.1,IP:2001:db8::1,email:ops@example.org" \
  -keyout "$T/san.key" -out "$C/cert/san.pem" 2>/dev/null
openssl req -new -key "$T/san.key" -subj "/CN=alice/emailAddress=alice@example.org" \
  -out "$C/cert/request.csr" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$C/cert/ed25519.key" 2>/dev/null
openssl ec -in "$T/san.key" -outform DER -out "$C/cert/key.der" 2>/dev/null

# --- an `openssl ca` directory: index.txt, crlnumber and CRLs (index, crl, der) ---
O="$T/ca"
mkdir -p "$O/newcerts"
: > "$O/index.txt"
echo 1000 > "$O/serial"
echo 1000 > "$O/crlnumber"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=Fuzz CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$O/ca.key" -out "$O/ca.pem" 2>/dev/null
cat > "$O/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
dir = $O
database = $O/index.txt
new_certs_dir = $O/newcerts
serial = $O/serial
crlnumber = $O/crlnumber
certificate = $O/ca.pem
private_key = $O/ca.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = p
unique_subject = no
[p]
commonName = supplied
emailAddress = optional
organizationName = optional
CNF
openssl ca -batch -config "$O/ca.cnf" -gencrl -out "$C/crl/empty.crl.pem" 2>/dev/null
issue() {  # issue NAME CN [openssl ca args...]
  name="$1" cn="$2"
  shift 2
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$cn/emailAddress=$cn@example.org/O=Example" -keyout "$O/$name.key" \
    -out "$O/$name.csr" 2>/dev/null
  openssl ca -batch -config "$O/ca.cnf" -notext -in "$O/$name.csr" -out "$O/$name.pem" "$@" 2>/dev/null
}
issue alice alice
issue bob bob
issue carol carol
issue dave dave -startdate 20200101000000Z -enddate 20200201000000Z
openssl ca -config "$O/ca.cnf" -revoke "$O/bob.pem" -crl_reason keyCompromise 2>/dev/null
openssl ca -config "$O/ca.cnf" -revoke "$O/carol.pem" 2>/dev/null
openssl ca -config "$O/ca.cnf" -updatedb 2>/dev/null
openssl ca -config "$O/ca.cnf" -gencrl -out "$C/crl/revoked.crl.pem" 2>/dev/null
openssl crl -in "$C/crl/revoked.crl.pem" -outform DER -out "$C/crl/revoked.crl.der"
openssl crl -in "$C/crl/empty.crl.pem" -outform DER -out "$C/crl/empty.crl.der"
cp "$O/index.txt" "$C/index/index.txt"
cp "$O/crlnumber" "$C/index/crlnumber"
printf 'V\t491231235959Z\t\t0A\tunknown\t/CN=x\nR\t20500101000000Z\t240101000000Z,superseded\t0B\tunknown\t/O=A/CN=y\n' \
  > "$C/index/generalized.txt"

# --- DER (der): whole structures and single times ---
cp "$T/data/fixture.der" "$C/der/cert.der"
cp "$C/crl/revoked.crl.der" "$C/der/crl.der"
printf '\027\015491231235959Z' > "$C/der/utctime.der"
printf '\030\01720500101000000Z' > "$C/der/generalized.der"

# --- the CSV of user import (csv) ---
printf 'user,cn,email\nalice,Alice Example,alice@example.org\nbob,Bob,bob@example.org\n' \
  > "$C/csv/minimal.csv"
printf 'user,cn,email,org,ou,locality,state,country,phone\r\n"carol","Carol ""C"" Example",carol@example.org,"Example, Inc.",Ops,Berlin,BE,DE,+49 30 1234\r\n\r\ndave,"Dave\nTwo lines",dave@example.org,,,,,,\r\n' \
  > "$C/csv/full.csv"

# --- access logs (log_default, log_custom, log_format) ---
cat > "$C/log_default/access.log" <<'LOG'
2026-11-23T08:00:00+00:00 1A2B3C SUCCESS 192.0.2.10 "GET / HTTP/1.1" 200
2026-11-23T08:00:01+01:00 - NONE 2001:db8::1 "GET /x y HTTP/1.1" 404
2026-11-23T08:00:02-05:30 0F FAILED:certificate revoked 192.0.2.11 "GET / HTTP/1.1" 400
LOG
cat > "$C/log_custom/access.log" <<'LOG'
192.0.2.10 - "-" [23/Nov/2026:08:00:00 +0000] "GET /b?c=d HTTP/1.1" 200 6 "https://example.org/x y" "Mozilla/5.0" 1A2B3C SUCCESS 0.004
unix: - "alice" [23/Nov/2026:08:00:00 -0130] "POST / HTTP/2.0" 201 0 "-" "curl/7.88" - NONE 12.000
LOG
{
  echo '$remote_addr $ssl_client_serial [$time_local] "$request" ${status} $msec'
  echo '192.0.2.1 0A [23/Nov/2026:08:00:00 +0000] "GET / HTTP/1.1" 200 1700000000.123'
} > "$C/log_format/time_local.txt"
{
  echo '$time_iso8601|$ssl_client_serial|$ssl_client_verify|$request_length|"$http_x_forwarded_for"'
  echo '2026-11-23T08:00:00+00:00|ABCDEF|SUCCESS|120|"198.51.100.1, 10.0.0.1"'
} > "$C/log_format/pipes.txt"

# --- TOML: certkeeper.toml and rollout plans (config, plan) ---
cp examples/certkeeper.toml "$C/config/example.toml"
printf '[notify]\nwithin = "14d"\nemail = "none"\n\n[crl]\nout = "ca.crl"\nmax_size = 4096\n' \
  > "$C/config/small.toml"
cp examples/rollout.toml "$C/plan/example.toml"
cat > "$C/plan/small.toml" <<'TOML'
[certificate]
cert_file = "new.pem"
key_file = "new.key"

[[hook]]
when = "before"
command = ["true"]
timeout = "5s"

[[pin]]
paths = ["monit/*.conf"]
algorithm = "md5"
format = "colon"

[[stage]]
name = "canary"
parallel = 2
[[stage.target]]
name = "web1"
endpoints = ["127.0.0.1:8443@www.example.org", "[::1]:443"]
verify_chain = false
[stage.target.deploy]
kind = "command"
command = ["deploy", "{{cert_file}}"]
TOML

# --- ACME answers (acme_json): RFC 8555 §7.1 examples, as pebble sends them ---
cat > "$C/acme_json/directory.json" <<'JSON'
{"keyChange":"https://acme.invalid/rollover-account-key","meta":{"externalAccountRequired":false,"termsOfService":"data:text/plain,Do%20what%20thou%20wilt","profiles":{"default":"x","shortlived":"y"}},"newAccount":"https://acme.invalid/sign-me-up","newNonce":"https://acme.invalid/nonce-plz","newOrder":"https://acme.invalid/order-plz","renewalInfo":"https://acme.invalid/draft-ietf-acme-ari-03/renewalInfo","revokeCert":"https://acme.invalid/revoke-cert"}
JSON
cat > "$C/acme_json/order.json" <<'JSON'
{"status":"invalid","expires":"2026-11-30T08:00:00Z","identifiers":[{"type":"dns","value":"www.example.org"}],"authorizations":["https://acme.invalid/authZ/1",7],"finalize":"https://acme.invalid/finalize-order/1","certificate":"https://acme.invalid/certZ/1","error":{"type":"urn:ietf:params:acme:error:unauthorized","detail":"no"}}
JSON
cat > "$C/acme_json/authorization.json" <<'JSON'
{"status":"pending","identifier":{"type":"dns","value":"example.org"},"wildcard":true,"challenges":[{"type":"http-01","url":"https://acme.invalid/chalZ/1","token":"tok","status":"pending"},{"type":"dns-01","url":"https://acme.invalid/chalZ/2","token":"tok2","status":"invalid","error":{"type":"urn:ietf:params:acme:error:dns","detail":"NXDOMAIN"}},3]}
JSON
cat > "$C/acme_json/problem.json" <<'JSON'
{"type":"urn:ietf:params:acme:error:malformed","detail":"Some of the identifiers requested were rejected","subproblems":[{"type":"urn:ietf:params:acme:error:malformed","detail":"Invalid underscore in DNS name \"_example.org\"","identifier":{"type":"dns","value":"_example.org"}},{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"This CA will not issue for \"example.net\""},"x"]}
JSON
cat > "$C/acme_json/renewal.json" <<'JSON'
{"suggestedWindow":{"start":"2026-11-23T08:00:00.123Z","end":"2026-11-24T08:00:00+02:00"},"explanationURL":"https://acme.invalid/docs/ari"}
JSON
printf 'Wed, 21 Oct 2026 07:28:00 GMT' > "$C/acme_json/retry-after-date.txt"

# --- STARTTLS dialogs (starttls): byte 0 the protocol, byte 1 the read size ---
printf '\000\007220 mail.example.org ESMTP\r\n250-mail.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 2.0.0 Ready\r\n' \
  > "$C/starttls/smtp.txt"
printf '\000\077220-first\r\n220 second\r\n250-x\r\n250-STARTTLS\r\n250 8BITMIME\r\n454 TLS not available\r\n' \
  > "$C/starttls/smtp-refused.txt"
printf '\001\020* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n* BYE soon\r\na001 OK Begin TLS\r\n' \
  > "$C/starttls/imap.txt"
printf '\002\003+OK POP3 ready\r\n+OK Begin TLS\r\n' > "$C/starttls/pop3.txt"

# --- durations and probe targets (duration, target) ---
for d in 90d 36h 30m 45s 2w 10y 1000y 14; do
  printf '%s' "$d" > "$C/duration/$d.txt"
done
cat > "$C/target/targets.txt" <<'TXT'
# web servers
www.example.org
www.example.org:8443
192.0.2.1:443@www.example.org
[2001:db8::1]:993
2001:db8::2
https://www.example.org:8443/path
mail.example.org:25@mx.example.org  # trailing comment
TXT
echo "seeds: $(find "$C" -type f | wc -l) files, $(du -sk "$C" | cut -f1) KiB"
