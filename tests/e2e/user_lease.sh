#!/bin/bash
# Changes to one user are serialised by a per-user lease in the store:
# 8 `user renew` of one user at once either wait their turn or fail with one
# line naming the user and the holder; whatever a run prints is true (no run
# hands out a certificate another has released), and the bundle on disk is
# the store's current certificate. A lease held by a run elsewhere blocks
# until it expires; then it is taken over, audited.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "E2E CA" 2>/dev/null >/dev/null
ck ca show --pem > "$WORK/ca.pem"
ck user create alice --cn Alice --email alice@example.org --out "$WORK/b" \
  --password-file "$WORK/first.pw" >/dev/null
db="$H/certkeeper.db"

pids=()
for i in 1 2 3 4 5 6 7 8; do
  ck --json user renew alice --out "$WORK/b" --password-file "$WORK/r$i.pw" \
    > "$WORK/r$i.json" 2> "$WORK/r$i.err" & pids+=($!)
done
ok=(); busy=0
for i in 1 2 3 4 5 6 7 8; do
  rc=0; wait "${pids[$((i - 1))]}" || rc=$?
  if [ "$rc" = 0 ]; then
    ok+=("$i")
  else
    assert_eq "$rc" 1 "run $i exit code"
    assert_eq "$(wc -l < "$WORK/r$i.err")" 1 "run $i: one error line"
    grep -q "^certkeeper: error: user 'alice' is being changed by another certkeeper (pid [0-9]* on $(hostname), run by .*); nothing was done" "$WORK/r$i.err" \
      || fail "run $i message: $(cat "$WORK/r$i.err")"
    [ -e "$WORK/r$i.pw" ] && fail "run $i failed but wrote a password file"
    busy=$((busy + 1))
  fi
done
[ "${#ok[@]}" -ge 1 ] || fail "no renew succeeded"
assert_eq "$(db_sql "select count(*) from certificates c join users u on u.id = c.user_id where u.name = 'alice'")" \
  "$((1 + ${#ok[@]}))" "one certificate per successful run"
# Every run that said it renewed handed out a delivered certificate that no
# later run released as undelivered: the ones superseded are held, not revoked.
for i in "${ok[@]}"; do
  s=$(json 'd["serial"]' < "$WORK/r$i.json")
  assert_eq "$(db_sql "select delivery from certificates where hex(serial) = '$s'")" delivered "run $i: certificate $s delivered"
  rev=$(db_sql "select state from revocations where hex(serial) = '$s'")
  [ -z "$rev" ] || [ "$rev" = held ] || fail "run $i: its certificate $s was revoked ($rev) though the run reported success"
done
assert_eq "$(db_sql "select count(*) from revocations where state = 'released'")" 0 "nothing released"
# The bundle on disk is the store's current certificate, and it opens with
# the password of the run that issued it.
current=$(ck --json user show alice | json 'd["current"]["serial"]')
assert_eq "$(serial_of "$WORK/b/alice.crt")" "$current" "alice.crt is the current certificate"
winner=""
for i in "${ok[@]}"; do
  [ "$(json 'd["serial"]' < "$WORK/r$i.json")" = "$current" ] && winner=$i
done
[ -n "$winner" ] || fail "no successful run printed the current certificate $current"
openssl pkcs12 -in "$WORK/b/alice.p12" -passin "file:$WORK/r$winner.pw" -nokeys -clcerts 2>/dev/null \
  | openssl x509 -noout -serial | grep -q "=$current\$" || fail "alice.p12 holds $current"
openssl verify -CAfile "$WORK/ca.pem" "$WORK/b/alice.crt" >/dev/null || fail "alice.crt verifies"
assert_eq "$(db_sql 'select count(*) from user_leases')" 0 "no lease left behind"
pass "8 renews at once: ${#ok[@]} renewed in turn, $busy refused naming the holder; bundle = store"

# A lease held by a run on another host blocks every change to that user
# (renew, revoke, confirm, enable, create of that name), changing nothing.
now=$(date +%s)
db_sql "insert into user_leases values ('alice', '4242@far.example', 'bob@far', 'tok', $now, $((now + 600)))"
expect_error "renew while held" "user 'alice' is being changed by another certkeeper (pid 4242 on far.example, run by bob@far" -- \
  ck user renew alice --out "$WORK/b" --password-file "$WORK/x.pw"
expect_error "revoke while held" "pid 4242 on far.example" -- ck user revoke alice
expect_error "confirm while held" "pid 4242 on far.example" -- ck user confirm alice
db_sql "insert into user_leases values ('newbie', '4242@far.example', 'bob@far', 'tok2', $now, $((now + 600)))"
expect_error "create while held" "user 'newbie' is being changed" -- \
  ck user create newbie --cn N --email n@example.org --out "$WORK/b" --password-file "$WORK/n.pw"
printf 'user,cn,email\nnew1,N1,n1@example.org\nnewbie,N,n@example.org\n' > "$WORK/held.csv"
rc=0; ck user import "$WORK/held.csv" --out "$WORK/b" > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "import of a held user"
grep -q "user 'newbie' is being changed" "$WORK/err" || fail "import names the held user: $(cat "$WORK/err")"
ck user show new1 >/dev/null 2>&1 && fail "import issued a batch with a held user"
pass "a live lease elsewhere blocks renew, revoke, confirm, create and import"

# Expired: taken over, and the user's history says so.
db_sql "update user_leases set expires_at = $((now - 1)) where user_name = 'alice'"
ck user renew alice --out "$WORK/b" --password-file "$WORK/after.pw" >/dev/null
ck --json user show alice | json '[h["detail"] for h in d["history"] if h["action"] == "user.lease"][0]' \
  | grep -q "took over the lease of pid 4242 on far.example, run by bob@far" || fail "takeover audited"
openssl pkcs12 -in "$WORK/b/alice.p12" -passin "file:$WORK/after.pw" -noout 2>/dev/null || fail "bundle after takeover"
assert_eq "$(db_sql "select count(*) from user_leases where user_name = 'alice'")" 0 "lease given back"
pass "an expired lease is taken over and audited"
