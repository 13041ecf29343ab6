#!/bin/bash
# Printed notices are not "sent". A ticket link or a mailto: link only reaches
# someone when a person opens it, so notify records it as "printed" (not
# "sent"), does not print it again on the next run, and lists it with its link
# in every ops digest until the certificate is renewed or expires; a digest
# that is itself only printed says so. `notify --resend CERT|USER|all` forgets
# what was recorded so the same run sends (or prints) it again; `--dry-run`
# shows every full message. Outcomes are read from the SMTP sink and the store.
. "$(dirname "$0")/lib.sh" "$1"
DIR="$(dirname "$0")"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import aiosmtpd" 2>/dev/null \
  || fail "python3-aiosmtpd is not installed (scripts/install-deps.sh)"
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[ -e "$FAKETIME_LIB" ] || fail "libfaketime is not installed (scripts/install-deps.sh)"
SMTP="$WORK/smtp"; mkdir -p "$H" "$SMTP"
start_server SMTP "$SMTP" -- /usr/bin/python3 "$DIR/smtp_sink.py" "$SMTP"
on_fail() { echo "--- smtp"; cat "$SMTP/server.log" 2>/dev/null; echo "--- notifications"; db_sql 'SELECT * FROM notifications' 2>/dev/null; }
# ck_at DAYS ARGS...: certkeeper with the clock moved DAYS days ahead.
ck_at() { local days="$1"; shift; FAKETIME="+${days}d" LD_PRELOAD="$FAKETIME_LIB" "$CK_BIN" --home "$H" "$@"; }
db() { db_sql "$1"; }
mails_to() { grep -l "^X-Envelope-To: $1" "$SMTP"/mail/*.eml 2>/dev/null | sort -V || true; }
count_mails_to() { mails_to "$1" | grep -c . || true; }
newest_mail_to() { mails_to "$1" | tail -1; }

cat > "$H/certkeeper.toml" <<TOML
[notify]
within = "14d"
ops_email = "ops@example.org"
email = "smtp"
ticket = "link"
timeout = "5s"
[smtp]
url = "smtp://127.0.0.1:$SMTP_PORT"
from = "certkeeper@example.org"
[ticket.link]
url = "https://phab.example.org/maniphest/task/edit/form/1/?title={{title}}&description={{description}}"
TOML
ck ca init --name "E2E CA" >/dev/null 2>&1
ck user create alice --cn "Alice" --email alice@example.org --validity 5d --out "$WORK/b" --password-file "$WORK/a.pw" >/dev/null
ck user create bob --cn "Bob" --email bob@example.org --validity 10d --out "$WORK/b" --password-file "$WORK/b.pw" >/dev/null
ck user create carol --cn "Carol" --email carol@example.org --validity 300d --out "$WORK/b" --password-file "$WORK/c.pw" >/dev/null
alice=$(serial_of "$WORK/b/alice.crt"); bob=$(serial_of "$WORK/b/bob.crt"); carol=$(serial_of "$WORK/b/carol.crt")

# 1. --dry-run shows each full message (subject, body, link) and changes nothing.
before=$(db_dump)
ck notify --dry-run > "$WORK/dry.out"
assert_eq "$(db_dump)" "$before" "dry run changes nothing"
assert_eq "$(ls "$SMTP/mail" | wc -l)" 0 "dry run sends no mail"
/usr/bin/python3 - "$WORK/dry.out" "$alice" <<'PY' || fail "dry-run output: $(cat "$WORK/dry.out")"
import sys, urllib.parse
out, serial = open(sys.argv[1]).read(), sys.argv[2]
blocks, head = {}, None  # "dry-run HEADER" lines, each followed by its indented lines
for line in out.splitlines():
    if line.startswith("dry-run "):
        head = line[len("dry-run "):]
        blocks[head] = head
    elif (line.startswith(" ") or not line) and head is not None:
        blocks[head] += "\n" + line
    else:
        head = None
mail = [b for h, b in blocks.items() if h.startswith("email to alice@example.org (smtp) for alice, serial " + serial)]
assert len(mail) == 1, blocks.keys()
assert "\n  subject: Your E2E CA client certificate expires on " in mail[0], mail[0]
assert "\n    Hello Alice," in mail[0], mail[0]                     # the body, indented
assert "\n    your client certificate for E2E CA (user alice, serial " + serial + ")" in mail[0], mail[0]
ticket = [b for h, b in blocks.items() if h.startswith("ticket (link) for alice, serial " + serial)]
assert len(ticket) == 1, blocks.keys()
assert "would be printed, not sent" in ticket[0].splitlines()[0], ticket[0]
assert "\n  title: Renew the client certificate of alice" in ticket[0], ticket[0]
assert "\n    - serial: " + serial in ticket[0], ticket[0]          # the description
link = [l.strip()[len("link: "):] for l in ticket[0].splitlines() if l.strip().startswith("link: ")]
assert len(link) == 1 and link[0].startswith("https://phab.example.org/"), ticket[0]
q = urllib.parse.parse_qs(urllib.parse.urlsplit(link[0]).query)
assert q["title"][0].startswith("Renew the client certificate of alice"), q
digest = [b for h, b in blocks.items() if h.startswith("digest to ops@example.org (smtp)")]
assert len(digest) == 1 and "\n  subject: certkeeper: 2 client certificate(s)" in digest[0], digest
assert "printed" in digest[0] and link[0] in digest[0], "the dry-run digest lists the links it would print"
PY
pass "dry run: subject, body and link of every message; nothing sent or recorded"

# 2. The real run: the mails go out, the ticket links are only printed and
# recorded as printed (with their link), and the digest lists them.
ck --json notify > "$WORK/run1.json"
/usr/bin/python3 - "$WORK/run1.json" "$alice" "$bob" <<'PY' || fail "run 1 json: $(cat "$WORK/run1.json")"
import json, sys
d = json.load(open(sys.argv[1]))
by = {(a["channel"], a.get("user", "")): a for a in d["actions"]}
for user, serial in (("alice", sys.argv[2]), ("bob", sys.argv[3])):
    assert by[("ticket", user)]["outcome"] == "printed", by[("ticket", user)]
    assert by[("ticket", user)]["link"].startswith("https://phab.example.org/"), by[("ticket", user)]
    assert by[("email", user)]["outcome"] == "sent", by[("email", user)]
assert by[("digest", "")]["outcome"] == "sent", by[("digest", "")]
assert (d["sent"], d["printed"], d["failed"]) == (3, 2, 0), d
assert sorted(p["user"] for p in d["pending_printed"]) == ["alice", "bob"], d["pending_printed"]
PY
assert_eq "$(db "SELECT channel || '=' || state FROM notifications WHERE key = '$alice' ORDER BY channel" | tr '\n' ' ')" "email=sent ticket=printed " "alice's records"
alice_link=$(db "SELECT link FROM notifications WHERE key = '$alice' AND channel = 'ticket'")
bob_link=$(db "SELECT link FROM notifications WHERE key = '$bob' AND channel = 'ticket'")
case "$alice_link" in https://phab.example.org/*) ;; *) fail "alice's link is recorded: '$alice_link'";; esac
assert_eq "$(db "SELECT state FROM notifications WHERE channel = 'digest'")" "sent" "the SMTP digest is sent"
assert_eq "$(count_mails_to alice@example.org)" 1 "one mail to alice"
# digest_lists FILE SERIAL LINK... : the digest mail lists each printed notice
# with its user, serial, expiry date and exact link; `-` before a serial: not listed.
digest_lists() {
  /usr/bin/python3 - "$@" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
body, args = m.get_content(), sys.argv[2:]
assert "only printed" in m["Subject"], m["Subject"]
section = body[body.index("only printed"):]
while args:
    if args[0] == "-":
        assert args[1] not in section, (args[1], section)
        args = args[2:]
        continue
    user, serial, link = args[:3]
    args = args[3:]
    rows = [l for l in section.splitlines() if serial in l]
    assert rows and user in rows[0] and "expires 20" in rows[0] and "ticket (link)" in rows[0], section
    assert link in section, (link, section)
PY
}
digest1=$(newest_mail_to ops@example.org)
digest_lists "$digest1" alice "$alice" "$alice_link" bob "$bob" "$bob_link" || fail "digest 1 lists both links: $(cat "$digest1")"
pass "printed links recorded as printed, with the link; the SMTP digest lists them"

# 3. Same day again: nothing is printed twice, no second digest.
ck notify > "$WORK/o2"
grep -q "^printed " "$WORK/o2" && fail "a printed notice is printed again: $(cat "$WORK/o2")"
grep -q "2 printed notice(s) not acted on" "$WORK/o2" || fail "the summary counts what waits: $(cat "$WORK/o2")"
assert_eq "$(count_mails_to ops@example.org)" 1 "one digest a day"
pass "the next run prints nothing again"

# 4. The next day's digest lists them again; once alice is renewed, only bob.
ck_at 1 notify > "$WORK/o3"
grep -q "^printed " "$WORK/o3" && fail "printed again the next day: $(cat "$WORK/o3")"
assert_eq "$(count_mails_to ops@example.org)" 2 "the next day's digest"
digest_lists "$(newest_mail_to ops@example.org)" alice "$alice" "$alice_link" bob "$bob" "$bob_link" || fail "digest 2: $(cat "$(newest_mail_to ops@example.org)")"
ck user renew alice --out "$WORK/b2" --password-file "$WORK/a2.pw" >/dev/null
ck_at 2 notify > "$WORK/o4"
assert_eq "$(count_mails_to ops@example.org)" 3 "the digest of day 2"
digest_lists "$(newest_mail_to ops@example.org)" bob "$bob" "$bob_link" - "$alice" || fail "digest 3 drops renewed alice: $(cat "$(newest_mail_to ops@example.org)")"
pass "listed in every digest until renewed"

# 5. --resend: bad targets change nothing.
expect_error "resend unknown user" "'nobody'" -- ck notify --resend nobody
expect_error "resend unknown serial" "'0123ABCD'" -- ck notify --resend 0123ABCD
expect_error "resend a certificate outside the window" "$carol" -- ck notify --resend "$carol"
expect_error "resend a renewed certificate" "$alice" -- ck notify --resend "$alice"
expect_error "resend of nothing" "--resend needs a certificate serial" -- ck notify --resend ''
expect_error "resend with --dry-run, unknown user" "'nobody'" -- ck notify --dry-run --resend nobody
# A dry run shows what would be resent, in full, and changes nothing.
before=$(db_dump)
ck notify --dry-run --resend bob > "$WORK/dry2.out"
assert_eq "$(db_dump)" "$before" "dry-run resend changes nothing"
grep -q "^dry-run resend: would forget ticket (printed), email (sent) of bob, serial $bob$" "$WORK/dry2.out" || fail "dry-run resend line: $(cat "$WORK/dry2.out")"
grep -q "^dry-run email to bob@example.org (smtp) for bob, serial $bob" "$WORK/dry2.out" || fail "dry-run resend shows bob's mail: $(cat "$WORK/dry2.out")"
# (Rendered anew: its "days left" may differ from the recorded link's by one.)
grep -q "^  link: https://phab.example.org/.*serial%3A%20$bob" "$WORK/dry2.out" || fail "dry-run resend shows bob's link: $(cat "$WORK/dry2.out")"
# The real resend, by user: bob's mail goes out again and his link is printed again.
at_before=$(db "SELECT at FROM notifications WHERE key = '$bob' AND channel = 'email'")
sleep 1
ck notify --resend bob > "$WORK/o5"
assert_eq "$(count_mails_to bob@example.org)" 2 "bob's mail sent again"
grep -q "^resend: forgot ticket (printed), email (sent) of bob, serial $bob$" "$WORK/o5" || fail "resend line: $(cat "$WORK/o5")"
grep -q "https://phab.example.org/.*serial%3A%20$bob" "$WORK/o5" || fail "bob's link printed again: $(cat "$WORK/o5")"
[ "$(db "SELECT at FROM notifications WHERE key = '$bob' AND channel = 'email'")" -gt "$at_before" ] || fail "bob's mail re-recorded"
assert_eq "$(db "SELECT state FROM notifications WHERE key = '$bob' AND channel = 'ticket'")" "printed" "bob's link printed again"
# By serial (lowercase) and all: only certificates in the window with a record.
ck notify --resend "$(echo "$bob" | tr A-F a-f)" > "$WORK/o6"
assert_eq "$(count_mails_to bob@example.org)" 3 "resend by serial"
ck --json notify --resend all > "$WORK/o7.json"
assert_eq "$(json '",".join(r["user"] for r in d["resend"])' < "$WORK/o7.json")" "bob" "resend all: bob only"
assert_eq "$(count_mails_to bob@example.org)" 4 "resend all"
assert_eq "$(count_mails_to alice@example.org)" 1 "alice (renewed) is not resent"
assert_eq "$(count_mails_to carol@example.org)" 0 "carol (outside the window) is not resent"
pass "resend by user, serial and all; dry run shows it; bad targets refused"

# 6. A digest that is itself only printed says so, on every run.
use_home "$WORK/home2"; mkdir -p "$H"
cat > "$H/certkeeper.toml" <<TOML
[notify]
ops_email = "ops@example.org"
email = "mailto"
TOML
ck ca init --name "E2E CA" >/dev/null 2>&1
ck user create dave --cn Dave --email dave@example.org --validity 5d --out "$WORK/b3" --password-file "$WORK/d.pw" >/dev/null
dave=$(serial_of "$WORK/b3/dave.crt")
rc=0; ck notify > "$WORK/o8" 2> "$WORK/e8" || rc=$?
assert_eq "$rc" 3 "printed notices that no mailed digest lists: exit 3"
grep -q "^printed email to dave@example.org (mailto) for dave, serial $dave$" "$WORK/o8" || fail "printed mail: $(cat "$WORK/o8")"
grep -q "^printed digest to ops@example.org (mailto)$" "$WORK/o8" || fail "printed digest: $(cat "$WORK/o8")"
grep -q "0 sent, 2 printed (not sent)" "$WORK/o8" || fail "summary: $(cat "$WORK/o8")"
grep -q "^certkeeper: warning: 1 notice(s) were only printed, not sent, and the ops digest that lists them is only printed too (mailto): nobody has been written to$" "$WORK/e8" || fail "warning: $(cat "$WORK/e8")"
assert_eq "$(db "SELECT channel || '=' || state FROM notifications ORDER BY channel" | tr '\n' ' ')" "digest=printed email=printed " "all printed"
rc=0; ck notify > "$WORK/o9" 2> "$WORK/e9" || rc=$?
assert_eq "$rc" 3 "exit 3 on every run while nobody has been written to"
grep -q "^printed" "$WORK/o9" && fail "printed twice: $(cat "$WORK/o9")"
grep -q "only printed too (mailto)" "$WORK/e9" || fail "the warning stays: $(cat "$WORK/e9")"
pass "a printed digest is called printed, warned about and exits 3 on every run"

# 7. A store from before printed notices: its link/mailto rows become "printed".
# (SQLite's migrations: the PostgreSQL schema began with printed notices.)
pg_store && exit 0
sqlite3 "$H/certkeeper.db" "DROP INDEX notifications_printed; DROP INDEX certificates_expiry; DROP TABLE crl_canaries; DROP TABLE crl_enforcement; ALTER TABLE notifications DROP COLUMN state; ALTER TABLE notifications DROP COLUMN link; DROP TABLE user_leases; DROP TABLE published_revocations; ALTER TABLE ca DROP COLUMN key_uri; PRAGMA user_version = 8"
ck --json notify > "$WORK/o10.json" 2> "$WORK/e10" || true
if grep -q "error" "$WORK/e10"; then fail "migration from schema 8: $(cat "$WORK/e10")"; fi
assert_eq "$(db "SELECT channel || '=' || state FROM notifications ORDER BY channel" | tr '\n' ' ')" "digest=printed email=printed " "migrated rows"
assert_eq "$(json '[(p["user"], p["link"]) for p in d["pending_printed"]]' < "$WORK/o10.json")" "[('dave', '')]" "migrated: pending, link unknown"
pass "migration: old mailto rows count as printed"
