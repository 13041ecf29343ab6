#!/bin/bash
# serve's web pages in a real browser (Debian's chromium, headless) over a
# store with fine, expiring, expired and held certificates, a CRL, a rollout
# plan with an aligned and a misaligned endpoint, and attacker-controlled
# subject text: a user's CN (`user create --cn`) and an imported server
# certificate's CN and SANs (`cert import`). The rendered DOM is parsed with
# python's html.parser (page_dom.py): rows, their order and colour classes,
# and no element injected by a subject. Screenshots are kept under
# build/tests/artifacts/serve_pages/ (with each page's DOM). Security headers and status codes are
# checked with curl.
. "$(dirname "$0")/lib.sh" "$1"
DOM="/usr/bin/python3 $(dirname "$0")/page_dom.py"
ART="$(dirname "$CK_BIN")/tests/artifacts/serve_pages"
rm -rf "$ART"; mkdir -p "$ART"
FAKE=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
SCRIPT='<script>alert(1)</script>'
IMG='"><img src=x onerror=alert(1)>'
export CERTKEEPER_CA_PASSPHRASE=e2e-pages

# --- the store -------------------------------------------------------------
ck ca init --name "Pages CA" > /dev/null 2>&1
mk() {  # mk USER VALIDITY [extra args]: a user and their first certificate
  local u=$1 v=$2; shift 2
  ck user create "$u" --cn "$u" --email "$u@example.org" --validity "$v" --out "$WORK/out" \
    --password-file "$WORK/$u.pw" "$@" > /dev/null 2>&1 || fail "user create $u"
}
mk alice 300d                       # fine: only in the full list
mk bob 5d                           # < 7 days
mk carol 20d                        # < 30 days
FAKETIME=-40d LD_PRELOAD=$FAKE mk dave 10d    # expired 30 days ago
mk erin 200d
FAKETIME=-35d LD_PRELOAD=$FAKE ck user renew erin --ticket OPS-42 --validity 100d --out "$WORK/new" \
  --password-file "$WORK/erin.pw2" > /dev/null 2>&1 || fail "user renew erin"
# The hostile CN is accepted by `user create` (any printable text up to 64 characters).
ck user create mallory --cn "$SCRIPT$IMG" --email mallory@example.org --validity 3d \
  --out "$WORK/out" --password-file "$WORK/mallory.pw" > /dev/null 2>&1 || fail "user create mallory"
bob=$(serial_of "$WORK/out/bob.crt"); mallory=$(serial_of "$WORK/out/mallory.crt")
erin_old=$(serial_of "$WORK/out/erin.crt"); erin_new=$(serial_of "$WORK/new/erin.crt")

# Server certificates: a fine and an older one for the plan, an expired one
# (imported while it was valid), and one whose CN and SANs are hostile.
test_pki
leaf old DNS:site.example.test
leaf new DNS:site.example.test
ck cert import --cert "$WORK/old.pem" --key "$WORK/old.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
ck cert import --cert "$WORK/new.pem" --key "$WORK/new.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
FAKETIME=-60d LD_PRELOAD=$FAKE openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -days 30 -subj "/CN=gone.example.test" -addext "subjectAltName=DNS:gone.example.test" \
  -keyout "$WORK/gone.key" -out "$WORK/gone.pem" 2>/dev/null
FAKETIME=-45d LD_PRELOAD=$FAKE ck cert import --cert "$WORK/gone.pem" --key "$WORK/gone.key" \
  --name gone > /dev/null 2>&1 || fail "cert import gone"
cat > "$WORK/hostile.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = ext
[dn]
CN = <script>alert(1)</script>
[ext]
subjectAltName = @san
[san]
DNS.1 = \"><img src=x onerror=alert(1)>
DNS.2 = <script>alert(2)</script>
CNF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 25 \
  -config "$WORK/hostile.cnf" -keyout "$WORK/hostile.key" -out "$WORK/hostile.pem" 2>/dev/null
openssl x509 -in "$WORK/hostile.pem" -noout -ext subjectAltName | grep -qF 'DNS:"><img src=x onerror=alert(1)>' \
  || fail "the hostile SAN was not made: $(openssl x509 -in "$WORK/hostile.pem" -noout -ext subjectAltName)"
ck cert import --cert "$WORK/hostile.pem" --key "$WORK/hostile.key" --name hostile > /dev/null 2>&1 \
  || fail "cert import of the hostile certificate"
ck crl build --out "$WORK/crl.pem" > /dev/null 2>&1 || fail "crl build"
pass "store: 6 users, 4 server certificates, a held revocation, CRL $(crl_number "$WORK/crl.pem")"

# A plan with two endpoints: one serves the newest "site", the other the old one.
P=$(( 21000 + RANDOM % 9000 ))
tls_serve() {  # tls_serve PORT NAME
  openssl s_server -accept "127.0.0.1:$1" -cert "$WORK/$2.pem" -key "$WORK/$2.key" \
    -cert_chain "$WORK/inter.pem" -www -quiet > "$WORK/s_server.$1.log" 2>&1 &
  CLEANUP_CMDS+=("stop_server $!")
}
tls_serve $P new; tls_serve $((P + 1)) old
for port in $P $((P + 1)); do
  for _ in $(seq 50); do
    openssl s_client -connect "127.0.0.1:$port" < /dev/null > /dev/null 2>&1 && break; sleep 0.1
  done
done
cat > "$WORK/web.toml" <<TOML
[certificate]
name = "site"
ca_file = "root.pem"

[[stage]]
name = "all"
[[stage.target]]
name = "front"
endpoints = ["127.0.0.1:$P@site.example.test"]
[stage.target.deploy]
kind = "command"
command = ["true"]
[[stage.target]]
name = "back"
endpoints = ["127.0.0.1:$((P + 1))@site.example.test"]
[stage.target.deploy]
kind = "command"
command = ["true"]
TOML

# --- serve -----------------------------------------------------------------
"$CK_BIN" --home "$H" serve --listen 127.0.0.1:0 --plan "$WORK/web.toml" 2> "$WORK/serve.err" &
SERVE_PID=$!
CLEANUP_CMDS+=("stop_server $SERVE_PID")
for _ in $(seq 100); do grep -q "serving on" "$WORK/serve.err" && break; sleep 0.1; done
PORT=$(sed -n 's|.*serving on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/serve.err")
[ -n "$PORT" ] || fail "serve did not start: $(cat "$WORK/serve.err")"
URL="http://127.0.0.1:$PORT"
# The first probe round runs at start; wait until the page shows both endpoints.
for _ in $(seq 300); do
  curl --noproxy '*' -s "$URL/" | grep -q "aligned-yes" && break; sleep 0.1
done

# --- headers and status codes (curl) ---------------------------------------
status() { curl --noproxy '*' -s -o /dev/null -w '%{http_code}' "$URL$1"; }
for path in / /certificates "/certificates/$mallory" /servers/hostile /assets/style.css /nowhere; do
  curl --noproxy '*' -s -I "$URL$path" | tr -d '\r' > "$WORK/headers"
  grep -qx "Content-Security-Policy: default-src 'self'" "$WORK/headers" || fail "$path: CSP: $(cat "$WORK/headers")"
  grep -qx "X-Content-Type-Options: nosniff" "$WORK/headers" || fail "$path: nosniff"
  grep -qx "X-Frame-Options: DENY" "$WORK/headers" || fail "$path: X-Frame-Options"
done
grep -qx "Content-Type: text/css; charset=utf-8" <(curl --noproxy '*' -s -I "$URL/assets/style.css" | tr -d '\r') \
  || fail "the stylesheet's content type"
pass "CSP default-src 'self', nosniff and DENY on every page, the stylesheet and the 404 page"
assert_eq "$(status /)" 200 "/"
assert_eq "$(status "/certificates/$bob")" 200 "a known serial"
assert_eq "$(status "/certificates/$(echo "$bob" | tr 'A-F' 'a-f')")" 200 "a known serial in lower case"
assert_eq "$(status /certificates/00112233)" 404 "an unknown serial"
assert_eq "$(status /certificates/not-hex)" 400 "a serial that is not hex"
assert_eq "$(status /servers/nosuch)" 404 "an unknown server certificate"
assert_eq "$(status '/?page=0')" 400 "page=0"
assert_eq "$(status '/?page=abc')" 400 "page=abc"
assert_eq "$(status '/?q=a&q=b')" 400 "q twice"
assert_eq "$(status '/?q=%0A')" 400 "a control character in q"
assert_eq "$(status '/?sort=days')" 400 "an unknown parameter"
assert_eq "$(status '/certificates?after=zzz')" 400 "a bad cursor"
assert_eq "$(status /nowhere)" 404 "an unknown page"
pass "200 for pages, 404 for unknown serials, names and pages, 400 for bad queries"

# --- the browser -----------------------------------------------------------
PROFILE="$WORK/chromium"
browse() {  # browse NAME PATH [shot]: $WORK/NAME.html (the DOM), and with shot $ART/NAME.png
  local i
  for i in 1 2; do
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
      --disable-component-update --no-first-run --disable-dev-shm-usage --user-data-dir="$PROFILE" \
      --dump-dom "$URL$2" > "$WORK/$1.html" 2> "$WORK/chromium.err" && [ -s "$WORK/$1.html" ] && break
  done
  [ -s "$WORK/$1.html" ] || fail "chromium did not load $2: $(tail -5 "$WORK/chromium.err")"
  cp "$WORK/$1.html" "$ART/$1.html"
  [ "${3:-}" = shot ] || return 0
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --disable-dev-shm-usage --user-data-dir="$PROFILE" \
    --window-size=1280,1600 --screenshot="$ART/$1.png" "$URL$2" > /dev/null 2>&1 \
    || fail "chromium screenshot of $2"
  file "$ART/$1.png" | grep -q "PNG image data" || fail "no screenshot of $2"
}
dom() { $DOM "$WORK/$1.html" "$2"; }
no_injection() {  # no_injection NAME: no element a subject could have injected
  assert_eq "$(dom "$1" 'tags("script")')" 0 "$1: <script> elements"
  assert_eq "$(dom "$1" 'tags("img")')" 0 "$1: <img> elements"
  assert_eq "$(dom "$1" 'tags("iframe") + tags("object") + tags("embed")')" 0 "$1: embedded elements"
}

browse inventory / shot
no_injection inventory
# Rows by days left: expired first, then < 7 d, < 30 d, fine; server and client mixed.
got=$(dom inventory '[[r[0], r[1][2]] for r in rows("inventory")]')
want='[["band-expired", "gone"], ["band-7d", "mallory"], ["band-7d", "bob"], ["band-30d", "carol"], ["band-30d", "hostile"], ["band-ok", "site"], ["band-ok", "erin"]]'
assert_eq "$got" "$want" "inventory rows, order and colour bands"
assert_eq "$(dom inventory '[r[1][4] for r in rows("inventory") if r[1][2] == "erin"]')" '["held"]' "erin's old certificate is held"
dom inventory 'hrefs()' | grep -qF "\"/certificates/$mallory\"" || fail "link to mallory's page: $(dom inventory 'hrefs()')"
dom inventory 'hrefs()' | grep -qF '"/servers/hostile"' || fail "link to the hostile server certificate's page"
pass "inventory: 7 rows soonest first, bands expired/7d/30d/ok, alice (300 d) only in the full list"
got=$(dom inventory 'rows("held")')
echo "$got" | /usr/bin/python3 -c "
import json, sys
rows = json.load(sys.stdin)
assert len(rows) == 1, rows
cls, cells = rows[0]
assert cls == 'held-old', cls                      # held for 35 days: past the 30-day alert
assert cells[0] == 'erin' and cells[1] == '$erin_old', cells
assert cells[2] == 'OPS-42', cells
assert cells[3] == '35 days', cells
assert '$erin_new' in cells[4] and 'certkeeper user confirm erin' in cells[4] and 'expiry' in cells[4], cells
" || fail "held revocation row: $got"
pass "held revocation: ticket OPS-42, 35 days, released by $erin_new's use, user confirm, or expiry"
assert_eq "$(dom inventory 'text("crl-number")')" "\"$(crl_number "$WORK/crl.pem")\"" "CRL number"
dom inventory 'text("crl-publish")' | grep -q "no publish command" || fail "CRL publish state: $(dom inventory 'text("crl-publish")')"
pass "CRL: number $(crl_number "$WORK/crl.pem") and its publish state"
# Per plan, each endpoint's alignment and chain result.
got=$(dom inventory '[[r[0], r[1][1], r[1][2], r[1][3], r[1][4].split(",")[0]] for r in class_rows("endpoints")]')
want='[["aligned-yes", "front", "yes", "new", "verified"], ["aligned-no", "back", "no", "old", "verified"]]'
assert_eq "$got" "$want" "endpoint alignment"
dom inventory 'text("content")' | grep -q "Plan web" || fail "the plan's heading"
pass "plan web: front serves the new certificate (aligned), back the old one (not aligned)"

# The search box filters on the server: by user, by serial (either case), by name.
browse search "/?q=BO"
assert_eq "$(dom search '[r[1][2] for r in rows("inventory")]')" '["bob"]' "search by user"
assert_eq "$(dom search 'attr("q", "value")')" '"BO"' "the search text stays in the box"
browse search_serial "/?q=$(echo "$mallory" | tr 'A-F' 'a-f')"
assert_eq "$(dom search_serial '[r[1][2] for r in rows("inventory")]')" '["mallory"]' "search by serial"
browse search_name "/?q=HOST"
assert_eq "$(dom search_name '[r[1][2] for r in rows("inventory")]')" '["hostile"]' "search by server name"
# Hostile search text is echoed as the input's value, not as markup.
browse search_hostile "/?q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"
no_injection search_hostile
assert_eq "$(dom search_hostile 'attr("q", "value")')" "$(printf '%s' "$IMG" | /usr/bin/python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')" "hostile search text"
pass "search: by user, by serial in lower case, by server name; hostile search text stays text"

# The full client list reads the store: alice (300 d) is there, dave expired.
browse clients /certificates shot
no_injection clients
got=$(dom clients '[[r[0], r[1][1], r[1][3]] for r in rows("clients")]')
want='[["band-expired", "dave", "expired"], ["band-7d", "mallory", "active"], ["band-7d", "bob", "active"], ["band-30d", "carol", "active"], ["band-ok", "erin", "active"], ["band-ok", "erin", "held"], ["band-ok", "alice", "active"]]'
assert_eq "$got" "$want" "full client list"
pass "full client list: every certificate, soonest first, with its state"

# Detail pages: the hostile CN and SANs are text.
browse client "/certificates/$mallory" shot
no_injection client
assert_eq "$(dom client 'text("field-common-name")')" "$(printf '%s' "$SCRIPT$IMG" | /usr/bin/python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')" "the hostile CN as text"
assert_eq "$(dom client 'text("field-serial")')" "\"$mallory\"" "serial"
want_fp=$(openssl x509 -in "$WORK/out/mallory.crt" -noout -fingerprint -sha256 | cut -d= -f2)
assert_eq "$(dom client 'text("field-sha-256-fingerprint")')" "\"$want_fp\"" "SHA-256 fingerprint"
want_fp=$(openssl x509 -in "$WORK/out/mallory.crt" -noout -fingerprint -sha1 | cut -d= -f2)
assert_eq "$(dom client 'text("field-sha-1-fingerprint")')" "\"$want_fp\"" "SHA-1 fingerprint"
assert_eq "$(dom client 'cls("field-not-after")')" '"band-7d not-after"' "validity band"
dom client '[r[1][2] for r in rows("audit")]' | grep -q "user.create" || fail "audit history: $(dom client 'rows("audit")')"
pass "client certificate page: hostile CN as text, serial, fingerprints (as openssl prints them), audit history"

browse server /servers/hostile shot
no_injection server
assert_eq "$(dom server 'items("sans")')" '["\"><img src=x onerror=alert(1)>", "<script>alert(2)</script>"]' "hostile SANs as text"
assert_eq "$(dom server 'text("field-common-name")')" '"<script>alert(1)</script>"' "hostile server CN as text"
browse site /servers/site shot
got=$(dom site '[r[1][1] for r in rows("chain")]')
assert_eq "$got" '["CN=certkeeper e2e intermediate"]' "site's chain"
dom site '[r[1][2] for r in rows("audit")]' | grep -q "servercert.import" || fail "site's audit history"
want_fp=$(openssl x509 -in "$WORK/new.pem" -noout -fingerprint -sha256 | cut -d= -f2)
assert_eq "$(dom site 'text("field-sha-256-fingerprint")')" "\"$want_fp\"" "site's newest version"
pass "server pages: hostile CN and SANs as text; site's chain, fingerprint and audit history"

browse missing /certificates/00112233 shot
assert_eq "$(dom missing 'text("error-message")')" '"no client certificate with serial 112233"' "the 404 page"
pass "screenshots in $ART: $(cd "$ART" && ls *.png | tr '\n' ' ')"
