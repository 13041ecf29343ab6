#!/bin/bash
# CRL publication: [crl] out and publish_command (templated with the CRL path
# and one "Bug: T…" line per newly revoked certificate), `crl build --json`
# listing what is new, `--if-due`, and the warnings of `crl status`.
. "$(dirname "$0")/lib.sh" "$1"

mkdir -p "$H" "$WORK/pub" "$WORK/repo"
cat > "$WORK/publish" <<'SH'
#!/bin/sh
# A stand-in for "copy into the config repository and commit".
[ -n "${PUBLISH_FAIL:-}" ] && { echo "git push: remote rejected" >&2; exit 2; }
cp "$1" "$REPO/ca.crl" && printf 'CRL %s\n\n%s\n' "$2" "$3" > "$REPO/commit-message"
SH
chmod +x "$WORK/publish"
export REPO="$WORK/repo"
cat > "$H/certkeeper.toml" <<TOML
[crl]
out = "$WORK/pub/ca.crl"
publish_command = ["$WORK/publish", "{{crl_file}}", "{{crl_number}}", "{{bug_lines}}"]
max_size = 100
TOML
ck ca init --name "E2E CA" --crl-validity 7d >/dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
for u in alice bob; do
  ck user create $u --cn $u --email $u@example.org --out "$WORK/b" --password-file "$WORK/$u.pw" >/dev/null
done
ck --json crl build > "$WORK/c1.json"
assert_eq "$(json 'd["path"]' < "$WORK/c1.json")" "$WORK/pub/ca.crl" "[crl] out is the default"
ck user revoke alice --reason keyCompromise --ticket T11 >/dev/null
ck user renew bob --ticket T22 --out "$WORK/b" --password-file "$WORK/bob.pw2" >/dev/null
ck user confirm bob >/dev/null
ck --json crl build > "$WORK/c2.json"
assert_eq "$(json 'sorted((a["user"], a["reason"], a["ticket"]) for a in d["added"])' < "$WORK/c2.json")" \
  "[('alice', 'keyCompromise', 'T11'), ('bob', 'superseded', 'T22')]" "what is new in this CRL"
cmp -s "$WORK/pub/ca.crl" "$REPO/ca.crl" || fail "the publish command got the CRL"
grep -q "^Bug: T11$" "$REPO/commit-message" && grep -q "^Bug: T22$" "$REPO/commit-message" || fail "bug lines: $(cat "$REPO/commit-message")"
grep -q "^CRL 2$" "$REPO/commit-message" || fail "crl number in the message"
pass "publish command gets the CRL and one Bug line per new revocation"

# --if-due: nothing changed and nextUpdate is a week away -> not built.
n_before=$(db_sql "select value from counters where name='crl_number'")
ck --json crl build --if-due > "$WORK/c3.json"
assert_eq "$(json 'd["built"]' < "$WORK/c3.json")" False "not due"
assert_eq "$(db_sql "select value from counters where name='crl_number'")" "$n_before" "no number used"
assert_eq "$(json 'd["built"]' < <(ck --json crl build --if-due --before 8d))" True "due within 8 days"
ck user revoke bob --reason affiliationChanged >/dev/null
assert_eq "$(json 'd["built"]' < <(ck --json crl build --if-due))" True "due after a revocation"
pass "--if-due builds only when something changed or nextUpdate is near"

# A failed publish leaves the CRL built and says so.
ck user create carol --cn carol --email carol@example.org --out "$WORK/b" --password-file "$WORK/carol.pw" >/dev/null
ck user revoke carol >/dev/null
rc=0; PUBLISH_FAIL=1 ck crl build > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "failed publish exit code"
grep -q "is built and written to $WORK/pub/ca.crl, but publishing failed: .*exited with 2: git push: remote rejected" "$WORK/err" \
  || fail "message: $(cat "$WORK/err")"
openssl crl -in "$WORK/pub/ca.crl" -noout -text | grep -q "$(serial_of "$WORK/b/carol.crt")" || fail "CRL with carol was written"
pass "a failed publish leaves the CRL built and says so"

# crl status warns about size and about a CRL past its nextUpdate.
ck crl status > /dev/null 2> "$WORK/err"
grep -q "more than \[crl\] max_size (100)" "$WORK/err" || fail "size warning: $(cat "$WORK/err")"
FAKETIME=+8d LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
  "$CK_BIN" --home "$H" crl status > /dev/null 2> "$WORK/err"
grep -q "is past its nextUpdate" "$WORK/err" || fail "expiry warning: $(cat "$WORK/err")"
pass "crl status warnings"

# A mass revocation: the text lists the first 20 new entries and says how many
# more; --json lists every one.
rm -f "$H/certkeeper.toml"
for i in $(seq 1 23); do
  ck user create "m$i" --cn "m$i" --email "m$i@example.org" --out "$WORK/b" --password-file "$WORK/m$i.pw" > /dev/null
  ck user revoke "m$i" --ticket "T$((i % 3))" > /dev/null
done
ck crl build --out "$WORK/mass.crl" > "$WORK/mass.out"
assert_eq "$(grep -c '^  new: ' "$WORK/mass.out")" 20 "text: the first 20 new entries"
grep -q "^  \.\.\. and 3 more new entries (\`--json\` lists them all)$" "$WORK/mass.out" || fail "summary: $(cat "$WORK/mass.out")"
for i in $(seq 24 26); do
  ck user create "m$i" --cn "m$i" --email "m$i@example.org" --out "$WORK/b" --password-file "$WORK/m$i.pw" > /dev/null
  ck user revoke "m$i" > /dev/null
done
ck --json crl build --out "$WORK/mass2.crl" > "$WORK/mass.json"
assert_eq "$(json 'len(d["added"])' < "$WORK/mass.json")" 3 "--json lists every new entry"
assert_eq "$(json 'sorted(a["user"] for a in d["added"])' < "$WORK/mass.json")" "['m24', 'm25', 'm26']" "the new users"
assert_eq "$(json 'd["entries"]' < "$WORK/mass.json")" "$(openssl crl -in "$WORK/mass2.crl" -noout -text | grep -c 'Serial Number')" "entries as openssl counts them"
pass "a mass revocation is summarised in text and listed in full in --json"
