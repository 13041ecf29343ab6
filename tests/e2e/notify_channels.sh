#!/bin/bash
# The other notify channels: SMTP with STARTTLS and AUTH (verified against a
# given CA file), a webhook with a bearer token whose answer becomes the
# ticket id, and the printed link/mailto forms (URL-encoded, RFC 6068).
# Also: a password in the config text is refused.
. "$(dirname "$0")/lib.sh" "$1"
DIR="$(dirname "$0")"
SMTP="$WORK/smtp"; TICKETS="$WORK/tickets"; mkdir -p "$H" "$SMTP" "$TICKETS"
on_fail() { echo "--- smtp"; cat "$SMTP/server.log" 2>/dev/null; echo "--- tickets"; cat "$TICKETS/requests.jsonl" 2>/dev/null; }

# The SMTP server's certificate, for 127.0.0.1, from a throwaway CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=smtp test" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/smtp.key" -out "$WORK/smtp.crt" 2>/dev/null
printf 'mail-Passw0rd-xyz\n' > "$WORK/smtp.pw"; chmod 600 "$WORK/smtp.pw"
printf 'hook-T0ken-abc\n' > "$WORK/hook.token"; chmod 600 "$WORK/hook.token"
start_server SMTP "$SMTP" -- /usr/bin/python3 "$DIR/smtp_sink.py" "$SMTP" --tls "$WORK/smtp.crt" "$WORK/smtp.key" --auth certkeeper "$WORK/smtp.pw"
start_server TICKET "$TICKETS" -- /usr/bin/python3 "$DIR/ticket_server.py" "$TICKETS"

ck ca init --name "E2E CA" >/dev/null 2>&1
ck user create alice --cn "Alice \"A\" O'Neil" --email alice@example.org --validity 5d --out "$WORK/b" --password-file "$WORK/a.pw" >/dev/null
alice_serial=$(serial_of "$WORK/b/alice.crt")

smtp_config() {  # $1: starttls, $2: extra [smtp] line
  cat > "$H/certkeeper.toml" <<TOML
[notify]
email = "smtp"
ticket = "webhook"
timeout = "5s"
[smtp]
url = "smtp://127.0.0.1:$SMTP_PORT"
from = "certkeeper@example.org"
starttls = $1
username = "certkeeper"
password_file = "$WORK/smtp.pw"
$2
[ticket.webhook]
url = "http://127.0.0.1:$TICKET_PORT/hook"
token_file = "$WORK/hook.token"
id_field = "id"
TOML
}

# Without STARTTLS (allowed here) the server refuses (it requires TLS before AUTH and MAIL).
smtp_config false 'ca_file = "'"$WORK/smtp.crt"'"
allow_plaintext_auth = true'
rc=0; ck notify > "$WORK/o1" 2> "$WORK/e1" || rc=$?
assert_eq "$rc" 1 "plain SMTP to a STARTTLS-only server fails"
assert_eq "$(ls "$SMTP/mail" | wc -l)" 0 "no mail without TLS"
# With STARTTLS but without the CA file, the server's certificate is not trusted.
smtp_config true ''
rc=0; ck notify > "$WORK/o2" 2> "$WORK/e2" || rc=$?
assert_eq "$rc" 1 "an untrusted SMTP certificate fails"
grep -q "certificate" "$WORK/e2" || fail "the TLS failure says why: $(cat "$WORK/e2")"
# With STARTTLS and the CA file: sent.
smtp_config true 'ca_file = "'"$WORK/smtp.crt"'"'
ck notify > "$WORK/o3"
assert_eq "$(ls "$SMTP/mail" | wc -l)" 1 "one mail over STARTTLS with AUTH"
grep -q "^X-Envelope-To: alice@example.org" "$SMTP"/mail/1.eml || fail "recipient"
pass "SMTP: STARTTLS required and verified, AUTH with the password file"
for f in "$WORK"/o* "$WORK"/e*; do grep -q "mail-Passw0rd-xyz\|hook-T0ken-abc" "$f" && fail "secret in $f"; done

# The webhook: JSON body with escaped values, bearer token, id from the answer.
/usr/bin/python3 - "$TICKETS/requests.jsonl" "$alice_serial" <<'PY' || fail "webhook request"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
ok = [r for r in reqs if r["answer"] != 500]
assert len(ok) == 1, reqs
r = ok[0]
assert r["path"] == "/hook" and r["content_type"] == "application/json", r
assert r["authorization"] == "Bearer hook-T0ken-abc", r["authorization"]
j = r["json"]
assert j["cn"] == "Alice \"A\" O'Neil", j["cn"]
assert j["serial"] == sys.argv[2] and j["user"] == "alice" and isinstance(j["days_left"], int), j
assert j["title"].startswith("Renew the client certificate of alice"), j["title"]
PY
grep -q "^sent ticket (webhook) for alice, serial $alice_serial: INC-10[0-9]$" "$WORK/o1" || fail "webhook ticket id (first run): $(cat "$WORK/o1")"
pass "webhook: JSON body, bearer token, ticket id from the answer"

# Printed forms: link (URL-encoded) and mailto (RFC 6068), in a fresh home.
use_home "$WORK/home2"; mkdir -p "$H"
ck ca init --name "E2E CA" >/dev/null 2>&1
ck user create bob --cn "Bob & Co" --email bob@example.org --validity 5d --out "$WORK/b2" --password-file "$WORK/b.pw" >/dev/null
cat > "$H/certkeeper.toml" <<TOML
[notify]
email = "mailto"
ticket = "link"
ops_email = "ops@example.org"
[ticket.link]
url = "https://phab.example.org/maniphest/task/edit/form/1/?title={{title}}&description={{description}}&projects=certs"
TOML
rc=0; ck --json notify > "$WORK/links.json" || rc=$?
assert_eq "$rc" 3 "link and mailto only: printed, and the digest is printed too"
/usr/bin/python3 - "$WORK/links.json" <<'PY' || fail "link/mailto"
import json, sys, urllib.parse
d = json.load(open(sys.argv[1]))
by = {(a["channel"], a["method"]): a for a in d["actions"]}
link = urllib.parse.urlsplit(by[("ticket", "link")]["link"])
assert link.netloc == "phab.example.org", link
q = urllib.parse.parse_qs(link.query)
assert q["title"] == ["Renew the client certificate of bob (expires " + q["title"][0][-11:]], q["title"]
assert "Bob & Co <bob@example.org>" in q["description"][0], q["description"]
assert q["projects"] == ["certs"]
m = urllib.parse.urlsplit(by[("email", "mailto")]["link"])
assert m.scheme == "mailto" and m.path == "bob@example.org", m
mq = urllib.parse.parse_qs(m.query)
assert mq["subject"][0].startswith("Your E2E CA client certificate expires on"), mq
assert "Hello Bob & Co,\r\n" in mq["body"][0], mq["body"]
assert by[("digest", "mailto")]["link"].startswith("mailto:ops@example.org?subject=")
PY
pass "link and mailto: URL-encoded, parse back to the rendered text"

# AUTH over a plain connection sends the password in clear: refused before
# anything is sent or recorded, even to a server that would take it, unless
# the config says allow_plaintext_auth = true (a relay on a trusted network).
PLAIN="$WORK/plain"
start_server PLAIN "$PLAIN" -- /usr/bin/python3 "$DIR/smtp_sink.py" "$PLAIN" --auth certkeeper "$WORK/smtp.pw"
use_home "$WORK/home-plain"; mkdir -p "$H"
ck ca init --name "E2E CA" >/dev/null 2>&1
ck user create carol --cn Carol --email carol@example.org --validity 5d --out "$WORK/b3" --password-file "$WORK/c.pw" >/dev/null
plain_config() {  # $1: extra [smtp] line
  printf '[notify]\nemail = "smtp"\n[smtp]\nurl = "smtp://127.0.0.1:%s"\nfrom = "ck@example.org"\nusername = "certkeeper"\npassword_file = "%s"\n%s\n' \
    "$PLAIN_PORT" "$WORK/smtp.pw" "$1" > "$H/certkeeper.toml"
}
plain_config ''
expect_error "plain AUTH" "refusing to send the SMTP password over a plain connection" -- ck notify
plain_config 'starttls = false'
expect_error "plain AUTH, starttls = false" "allow_plaintext_auth = true" -- ck notify
assert_eq "$(ls "$PLAIN/mail" | wc -l)" 0 "no mail over plain AUTH"
plain_config 'allow_plaintext_auth = true'
ck notify > "$WORK/o4"
assert_eq "$(ls "$PLAIN/mail" | wc -l)" 1 "plain AUTH when the config allows it"
grep -q "^X-Envelope-To: carol@example.org" "$PLAIN"/mail/1.eml || fail "recipient (plain)"
pass "SMTP: AUTH without TLS only with allow_plaintext_auth = true"

# A secret in the config text is refused, naming the key and line.
use_home "$WORK/home3"; mkdir -p "$H"
ck ca init --name "E2E CA" >/dev/null 2>&1
printf '[smtp]\nurl = "smtp://127.0.0.1:25"\npassword = "hunter2"\n' > "$H/certkeeper.toml"
expect_error "password in config" "line 3: 'smtp.password': secrets are not read from the config text" -- ck notify
printf '[notify]\nemail = "smtp"\n' > "$H/certkeeper.toml"
expect_error "smtp without settings" 'notify.email = "smtp" needs [smtp] url and from' -- ck notify
printf '[notify]\nticket = "jira"\n' > "$H/certkeeper.toml"
expect_error "unknown ticket kind" "'notify.ticket' must be one of conduit, link, webhook, none" -- ck notify
printf '[notify]\nticket = "conduit"\n[ticket.conduit]\nurl = "http://127.0.0.1:1/api/maniphest.edit"\n' > "$H/certkeeper.toml"
expect_error "conduit without token" "needs an API token" -- ck notify
printf '[notify]\ntemplates = "%s"\n' "$WORK/tpl" > "$H/certkeeper.toml"
mkdir -p "$WORK/tpl"; printf '{{#user}} unclosed\n' > "$WORK/tpl/email_body.mustache"
expect_error "broken template override" "email_body.mustache" -- ck notify
printf '[notify]\ntemplates = "%s"\n' "$WORK/no-such-folder" > "$H/certkeeper.toml"
expect_error "missing template folder" "template folder '$WORK/no-such-folder' does not exist" -- ck notify
printf 'api-token\n' > "$WORK/open.token"; chmod 644 "$WORK/open.token"
printf '[notify]\nticket = "conduit"\n[ticket.conduit]\nurl = "http://127.0.0.1:1/x"\ntoken_file = "%s"\n' "$WORK/open.token" > "$H/certkeeper.toml"
expect_error "token file readable by others" "'$WORK/open.token' can be read by others" -- ck notify
# A home without a store: nothing to notify about, and nothing created.
# (SQLite only: a PostgreSQL store is named by its URL, not found in a home.)
if ! pg_store; then
  H="$WORK/home5"; mkdir -p "$H"
  expect_error "notify without a store" "no certkeeper store in home '$H'" -- ck notify
  [ ! -e "$H/certkeeper.db" ] || fail "notify created a store"
fi

# A server that accepts and never answers: each channel fails after [notify]
# timeout, the run reports both and exits 1, nothing is recorded.
SILENT="$WORK/silent"
start_server SILENT "$SILENT" -- /usr/bin/python3 -c '
import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1] + "/port.tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + "/port.tmp", sys.argv[1] + "/port")
time.sleep(120)' "$SILENT"
use_home "$WORK/home4"; mkdir -p "$H"
ck ca init --name "E2E CA" >/dev/null 2>&1
ck user create frank --cn Frank --email frank@example.org --validity 5d --out "$WORK/b4" --password-file "$WORK/f.pw" >/dev/null
cat > "$H/certkeeper.toml" <<TOML
[notify]
email = "smtp"
ticket = "webhook"
timeout = "1s"
[smtp]
url = "smtp://127.0.0.1:$SILENT_PORT"
from = "certkeeper@example.org"
[ticket.webhook]
url = "http://127.0.0.1:$SILENT_PORT/hook"
TOML
rc=0; ck notify > "$WORK/o9" 2> "$WORK/e9" || rc=$?
assert_eq "$rc" 1 "exit code on timeouts"
assert_eq "$(grep -c -i 'timed out\|timeout' "$WORK/e9")" 2 "both channels time out: $(cat "$WORK/e9")"
assert_eq "$(db_sql 'SELECT count(*) FROM notifications')" 0 "nothing recorded"
pass "silent server: both channels time out after 1 s, nothing recorded"
