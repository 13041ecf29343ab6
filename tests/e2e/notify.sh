#!/bin/bash
# notify against a real SMTP server (aiosmtpd) and a stand-in Conduit ticket
# system: failures mark nothing and are retried; in the end exactly one mail
# and one ticket per certificate, plus one digest; the ticket id reaches
# `user renew` and `crl status`; --dry-run sends and records nothing.
. "$(dirname "$0")/lib.sh" "$1"
DIR="$(dirname "$0")"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import aiosmtpd" 2>/dev/null \
  || fail "python3-aiosmtpd is not installed (scripts/install-deps.sh)"

SMTP="$WORK/smtp"; TICKETS="$WORK/tickets"; mkdir -p "$H" "$SMTP" "$TICKETS"
export TICKET_TOKEN="api-Secr3tToken0000000000"
printf '%s\n' "$TICKET_TOKEN" > "$WORK/token"; chmod 600 "$WORK/token"
start_server TICKET "$TICKETS" -- /usr/bin/python3 "$DIR/ticket_server.py" "$TICKETS"
# A port nobody listens on yet: the SMTP server is "down" until started there.
SMTP_PORT_DOWN=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
on_fail() { echo "--- smtp"; cat "$SMTP/server.log" 2>/dev/null; echo "--- tickets"; cat "$TICKETS/requests.jsonl" 2>/dev/null; }

write_config() {
  cat > "$H/certkeeper.toml" <<TOML
[notify]
within = "14d"
ops_email = "ops@example.org"
email = "smtp"
ticket = "conduit"
timeout = "5s"
[smtp]
url = "smtp://127.0.0.1:$1"
from = "certkeeper <certkeeper@example.org>"
[ticket.conduit]
url = "http://127.0.0.1:$TICKET_PORT/api/maniphest.edit"
token_file = "$WORK/token"
projects = ["PHID-PROJ-certs", "PHID-PROJ-ops"]
TOML
}
write_config "$SMTP_PORT_DOWN"

ck ca init --name "E2E CA" >/dev/null 2>&1
ck user create alice --cn "Alice Müller" --email alice@example.org --validity 5d --out "$WORK/b" --password-file "$WORK/a.pw" >/dev/null
ck user create bob --cn Bob --email bob@example.org --validity 10d --out "$WORK/b" --password-file "$WORK/b.pw" >/dev/null
ck user create carol --cn Carol --email carol@example.org --validity 300d --out "$WORK/b" --password-file "$WORK/c.pw" >/dev/null
alice_serial=$(serial_of "$WORK/b/alice.crt")

mails() { { ls "$SMTP/mail" 2>/dev/null || true; } | grep -c '\.eml$' || true; }
requests() { cat "$TICKETS/requests.jsonl" 2>/dev/null || true; }
conduit_requests() { requests | grep -c maniphest || true; }
tasks_created() { requests | grep -c '"answer": 1[0-9][0-9]}' || true; }
notifications() { db_sql "SELECT count(*) FROM notifications"; }

# 1. --dry-run: shows what would go out, sends and records nothing.
before=$(db_dump)
ck notify --dry-run > "$WORK/dry.out"
assert_eq "$(grep -c '^dry-run ' "$WORK/dry.out")" 5 "dry run lists 2 tickets, 2 mails, 1 digest"
grep -q "carol" "$WORK/dry.out" && fail "carol's certificate is not in the window"
assert_eq "$(db_dump)" "$before" "dry run changes nothing"
assert_eq "$(conduit_requests)" 0 "dry run opens no ticket"
pass "dry run"

# 2. SMTP down and the ticket system answering 500: every channel fails,
# nothing is recorded, the run goes on and exits 1.
touch "$TICKETS/FAIL"
rc=0; ck notify > "$WORK/o2" 2> "$WORK/e2" || rc=$?
assert_eq "$rc" 1 "exit code with failures"
assert_eq "$(grep -c '^certkeeper: error: ' "$WORK/e2")" 5 "one error line per failed channel"
grep -q "HTTP 500" "$WORK/e2" || fail "the ticket failure names HTTP 500: $(cat "$WORK/e2")"
grep -q "api.token=(token)" "$WORK/e2" || fail "the echoed token is replaced in the quoted answer: $(cat "$WORK/e2")"
grep -q "SMTP smtp://127.0.0.1:$SMTP_PORT_DOWN" "$WORK/e2" || fail "the mail failure names the server: $(cat "$WORK/e2")"
assert_eq "$(notifications)" 0 "nothing recorded after failures"
assert_eq "$(conduit_requests)" 2 "both tickets were attempted"
pass "everything down: 5 failures reported, nothing recorded"

# 3. SMTP up, tickets still failing: the mails go out, the tickets wait.
start_server SMTP "$SMTP" -- /usr/bin/python3 "$DIR/smtp_sink.py" "$SMTP"
write_config "$SMTP_PORT"
rc=0; ck notify > "$WORK/o3" 2> "$WORK/e3" || rc=$?
assert_eq "$rc" 1 "exit code while tickets fail"
assert_eq "$(mails)" 3 "two user mails and one digest"
assert_eq "$(grep -c '^certkeeper: error: ' "$WORK/e3")" 2 "two ticket failures"
pass "SMTP up: mails sent, ticket failures reported"

# 4. The ticket system recovers: tickets are opened, no mail is sent again.
rm "$TICKETS/FAIL"
ck notify > "$WORK/o4"
assert_eq "$(mails)" 3 "no mail twice"
assert_eq "$(tasks_created)" 2 "two tasks created"
grep -q "^sent ticket (conduit) for alice, serial $alice_serial: T10[01]$" "$WORK/o4" || fail "ticket line: $(cat "$WORK/o4")"
# 5. And once more: nothing new at all.
ck --json notify > "$WORK/o5"
assert_eq "$(json '" ".join(str(x) for x in (d["sent"], d["failed"], d["already_done"], len(d["actions"])))' < "$WORK/o5")" "0 0 5 0" "second run"
assert_eq "$(mails)" 3 "no mail on the third run"
assert_eq "$(tasks_created)" 2 "no ticket on the third run"
assert_eq "$(notifications)" 5 "2 tickets + 2 mails + 1 digest recorded"
pass "retries complete: exactly one mail and one ticket per certificate, one digest"

# What the SMTP server received.
mail_to() { grep -l "^X-Envelope-To: $1" "$SMTP"/mail/*.eml; }
a=$(mail_to alice@example.org); d=$(mail_to ops@example.org)
/usr/bin/python3 - "$a" "$d" "$alice_serial" <<'PY' || fail "mail content"
import email, email.policy, sys
a = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
d = email.message_from_binary_file(open(sys.argv[2], "rb"), policy=email.policy.default)
serial = sys.argv[3]
assert a["To"] == "alice@example.org", a["To"]
assert a["From"] == "certkeeper <certkeeper@example.org>", a["From"]
assert a["X-Envelope-From"] == "certkeeper@example.org", a["X-Envelope-From"]
assert a["Subject"] == "Your E2E CA client certificate expires on " + a["Subject"][-10:], a["Subject"]
assert a["Date"] and a["Date"].datetime is not None, "Date"
assert a["Message-ID"].startswith("<") and a["Message-ID"].endswith("@example.org>"), a["Message-ID"]
assert a["MIME-Version"] == "1.0"
assert a.get_content_type() == "text/plain" and a.get_content_charset() == "utf-8"
body = a.get_content()
assert "Hello Alice Müller," in body, body
assert serial in body, body
assert d["To"] == "ops@example.org"
assert "2 client certificate(s) of E2E CA expire within 14d" in d["Subject"], d["Subject"]
digest = d.get_content()
assert "alice" in digest and "bob" in digest and "carol" not in digest, digest
assert a["Message-ID"] != d["Message-ID"]
PY
pass "mail headers (Date, Message-ID, From, To, Subject, UTF-8) and bodies"

# What the ticket system received.
/usr/bin/python3 - "$TICKETS/requests.jsonl" "$TICKET_TOKEN" <<'PY' || fail "conduit request"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if '"answer": 1' in l]
assert len(reqs) == 2, reqs
for r in reqs:
    f = r["form"]
    assert r["content_type"] == "application/x-www-form-urlencoded"
    assert f["api.token"] == sys.argv[2]
    assert f["transactions[0][type]"] == "title" and f["transactions[0][value]"].startswith("Renew the client certificate of ")
    assert f["transactions[1][type]"] == "description" and "certkeeper user renew" in f["transactions[1][value]"]
    assert f["transactions[2][type]"] == "projects.add"
    assert f["transactions[2][value][0]"] == "PHID-PROJ-certs" and f["transactions[2][value][1]"] == "PHID-PROJ-ops"
PY
pass "Conduit maniphest.edit: token, title, description, projects"

# The token never shows: not in output, errors, the store or the audit log.
for f in "$WORK"/dry.out "$WORK"/o2 "$WORK"/e2 "$WORK"/o3 "$WORK"/e3 "$WORK"/o4 "$WORK"/o5; do
  grep -q "$TICKET_TOKEN" "$f" && fail "token in $f"
done
db_dump | grep -q "$TICKET_TOKEN" && fail "token in the store"
pass "no token in output or store"

# The ticket follows the certificate: renew uses it, crl status shows it.
alice_task=$(sed -n "s/^sent ticket (conduit) for alice, serial $alice_serial: \(T[0-9]*\)$/\1/p" "$WORK/o4")
ck --json user show alice | json 'd["current"]["ticket"]' | grep -qx "$alice_task" || fail "the ticket is recorded on the certificate"
ck --json user renew alice --out "$WORK/b2" --password-file "$WORK/a2.pw" > "$WORK/renew.json"
assert_eq "$(json 'd["ticket"]' < "$WORK/renew.json")" "$alice_task" "renew carries the notify ticket"
ck --json crl status > "$WORK/status.json"
assert_eq "$(json '[h["ticket"] for h in d["held"] if h["user"] == "alice"][0]' < "$WORK/status.json")" "$alice_task" "crl status shows the ticket"
pass "ticket $alice_task: recorded, carried by renew, shown by crl status"

# The renewed certificate is not in the window; a run sends nothing new.
ck notify > "$WORK/o6"
assert_eq "$(mails)" 3 "no mail for the renewed certificate"

# The SMTP server refusing a recipient is a failure too (and retried).
ck user create dave --cn Dave --email dave@example.org --validity 3d --out "$WORK/b" --password-file "$WORK/d.pw" >/dev/null
touch "$SMTP/REJECT"
rc=0; ck notify > "$WORK/o7" 2> "$WORK/e7" || rc=$?
assert_eq "$rc" 1 "exit code when the recipient is refused"
grep -q "email to dave@example.org (smtp).*550" "$WORK/e7" || fail "the refusal is reported: $(cat "$WORK/e7")"
rm "$SMTP/REJECT"
ck notify > "$WORK/o8"
assert_eq "$(grep -c '^sent email to dave@example.org' "$WORK/o8")" 1 "dave's mail on the retry"
pass "a refused recipient is reported and retried"

# Two runs at once (a timer and an operator): one waits for the other's lock,
# so erin still gets exactly one mail and one ticket.
ck user create erin --cn Erin --email erin@example.org --validity 4d --out "$WORK/b" --password-file "$WORK/e.pw" >/dev/null
tasks_before=$(tasks_created)
"$CK_BIN" --home "$H" notify > "$WORK/p1" 2>&1 & p1=$!
"$CK_BIN" --home "$H" notify > "$WORK/p2" 2>&1 & p2=$!
wait "$p1" || fail "concurrent run 1: $(cat "$WORK/p1")"
wait "$p2" || fail "concurrent run 2: $(cat "$WORK/p2")"
assert_eq "$(grep -l '^X-Envelope-To: erin@example.org' "$SMTP"/mail/*.eml | wc -l)" 1 "one mail to erin"
assert_eq "$(( $(tasks_created) - tasks_before ))" 1 "one ticket for erin"
pass "two notify runs at once: nothing twice"

# Killed (a test build, CERTKEEPER_FAULT) between a send and its record: the
# next run sends it again, once (at least once); killed after the record: the
# next run sends nothing again. frank's first channel is his ticket.
crash() {  # crash POINT command... : the command must die at POINT
  local point="$1" rc=0; shift
  CERTKEEPER_FAULT="$point" "$@" > /dev/null 2>&1 || rc=$?
  assert_eq "$rc" 137 "$point: killed by SIGKILL (is this a test build?)"
}
tickets_for() { requests | grep '"answer": [0-9]' | grep -ci "$1" || true; }
mails_to() { { grep -l "^X-Envelope-To: $1@example.org" "$SMTP"/mail/*.eml || true; } | wc -l; }
ck user create frank --cn Frank --email frank@example.org --validity 4d --out "$WORK/b" --password-file "$WORK/f.pw" >/dev/null
crash notify.after_send ck notify
assert_eq "$(tickets_for frank)" 1 "notify.after_send: the ticket went out"
ck notify > /dev/null || fail "notify after a crash"
ck notify > /dev/null || fail "notify again"
assert_eq "$(tickets_for frank)" 2 "notify.after_send: sent again once (not recorded before the kill)"
assert_eq "$(mails_to frank)" 1 "notify.after_send: one mail"
ck user create gina --cn Gina --email gina@example.org --validity 4d --out "$WORK/b" --password-file "$WORK/g.pw" >/dev/null
crash notify.after_record ck notify
ck notify > /dev/null || fail "notify after a crash after the record"
ck notify > /dev/null || fail "notify again"
assert_eq "$(tickets_for gina)" 1 "notify.after_record: one ticket"
assert_eq "$(mails_to gina)" 1 "notify.after_record: one mail"
pass "notify.after_send: repeated once on the next run; notify.after_record: never repeated"
