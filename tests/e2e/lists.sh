#!/bin/bash
# Lists people read: `user list`, `cert list` and `expiring` print a header
# row, the user's name and e-mail and the days left, in columns that line up
# (names with accents too); `user show` prints each certificate's subject, so
# a changed OU is visible; `user edit` changes the phone without a new
# certificate and refuses fields the certificate carries; `cert import` says
# how many intermediates it stored.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "Lists CA" > /dev/null 2>&1
ck user create alice --cn "Ålice Ünderwood" --email alice@example.org --out "$WORK/b" --password-file "$WORK/a.pw" > /dev/null
ck user create bob --cn "Bob" --email bob@example.org --validity 20d --out "$WORK/b" --password-file "$WORK/b.pw" > /dev/null
ck user renew alice --set ou=Ops --out "$WORK/b" --password-file "$WORK/a2.pw" > /dev/null

# columns: every row's cell starts where its header's does (in characters)
aligned() {  # aligned FILE COLUMN...: each named column starts at the header's offset on every row
  /usr/bin/python3 - "$@" << 'PY'
import sys
path, cols = sys.argv[1], sys.argv[2:]
lines = open(path, encoding="utf-8").read().splitlines()
header = lines[0]
for col in cols:
    at = header.index(col)
    for row in lines[1:]:
        if len(row) > at and (row[at] == " " or row[at - 1] != " "):
            sys.exit(f"column {col} (at {at}) does not line up in: {row!r}")
PY
}
ck user list > "$WORK/users"
head -1 "$WORK/users" | grep -q "^USER  *NAME  *E-MAIL  *STATUS  *SERIAL  *NOT AFTER  *DAYS$" || fail "user list header: $(head -1 "$WORK/users")"
grep -q "^alice  *Ålice Ünderwood  *alice@example.org  *active  *[0-9A-F]\{32\}  *[0-9T:Z-]*  *36[45]$" "$WORK/users" \
  || fail "alice's row: $(cat "$WORK/users")"
grep -Eq "^bob  .* (19|20)$" "$WORK/users" || fail "bob's days left: $(cat "$WORK/users")"
aligned "$WORK/users" NAME E-MAIL STATUS SERIAL DAYS || fail "user list columns: $(cat "$WORK/users")"
pass "user list: a header, name, e-mail and days left, columns aligned past accented names"

ck cert list > "$WORK/certs"
head -1 "$WORK/certs" | grep -q "^USER  *NAME  *E-MAIL  *SERIAL  *STATUS  *NOT AFTER  *DAYS  *TICKET$" || fail "cert list header: $(head -1 "$WORK/certs")"
assert_eq "$(grep -c "alice@example.org" "$WORK/certs")" 2 "alice's two certificates with her e-mail"
aligned "$WORK/certs" NAME E-MAIL SERIAL STATUS DAYS || fail "cert list columns: $(cat "$WORK/certs")"
ck expiring --within 30d > "$WORK/expiring"
head -1 "$WORK/expiring" | grep -q "^USER  *NAME  *E-MAIL" || fail "expiring header: $(cat "$WORK/expiring")"
grep -Eq "^bob +Bob +bob@example.org  .* (19|20)$" "$WORK/expiring" || fail "expiring row: $(cat "$WORK/expiring")"
assert_eq "$(wc -l < "$WORK/expiring")" 2 "expiring: the header and bob"
pass "cert list and expiring: a header, name, e-mail and days left"

ck user show alice > "$WORK/show"
grep -q "SERIAL  *STATUS  *NOT AFTER  *DAYS  *TICKET  *SUBJECT" "$WORK/show" || fail "user show header: $(cat "$WORK/show")"
grep -q "active .*CN=Ålice Ünderwood,OU=Ops$" "$WORK/show" || fail "the new certificate's subject: $(cat "$WORK/show")"
grep -q "held .*  CN=Ålice Ünderwood$" "$WORK/show" || fail "the old certificate's subject: $(cat "$WORK/show")"
assert_eq "$(ck --json user show alice | json '[c["subject"] for c in d["certificates"]]')" \
  "['CN=Ålice Ünderwood', 'CN=Ålice Ünderwood,OU=Ops']" "user show --json subjects"
pass "user show: each certificate's subject (the changed OU shows)"

serial=$(ck --json user show alice | json 'd["current"]["serial"]')
ck user edit alice --set phone=+4930123456 > "$WORK/out" || fail "user edit"
assert_eq "$(ck --json user show alice | json 'd["phone"]')" "+4930123456" "phone after user edit"
assert_eq "$(ck --json user show alice | json 'd["current"]["serial"]')" "$serial" "the same certificate after user edit"
assert_eq "$(ck --json user show alice | json 'len(d["certificates"])')" 2 "no certificate issued by user edit"
assert_eq "$(db_sql "SELECT detail FROM audit WHERE action = 'user.edit'")" "changed: phone" "audit detail"
expect_error "user edit of a field in the certificate" "change it with \`certkeeper user renew alice --set ou=Sales\`" -- \
  ck user edit alice --set ou=Sales
expect_error "user edit of an unknown user" "unknown user 'nobody'" -- ck user edit nobody --set phone=1
expect_error "user edit of an unknown field" "unknown field 'fax'" -- ck user edit alice --set fax=1
pass "user edit: the phone changes without a new certificate; certificate fields point to user renew --set"

test_pki
leaf site "DNS:site.example.test"
ck cert import --cert "$WORK/site.pem" --key "$WORK/site.key" --chain "$WORK/inter.pem" --name site > "$WORK/out" 2>/dev/null
grep -q "version 1, 1 intermediate certificate)" "$WORK/out" || fail "cert import summary: $(cat "$WORK/out")"
grep -q "chain of" "$WORK/out" && fail "cert import still says 'chain of'"
ck cert list > "$WORK/certs"
grep -q "^server certificates:" "$WORK/certs" || fail "no server section: $(cat "$WORK/certs")"
grep -q "^  NAME  *VERSION  *SOURCE  *NOT AFTER  *DAYS  *DOMAINS$" "$WORK/certs" || fail "server header: $(cat "$WORK/certs")"
grep -Eq "^  site +1 +import  .*  (89|90) +site.example.test$" "$WORK/certs" || fail "server row: $(cat "$WORK/certs")"
pass "cert import names its intermediates; server certificates listed under a header"
