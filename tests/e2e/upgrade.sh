#!/usr/bin/env bash
# A store from schema 7 (before publish outcomes, release sequences and
# disabled users) keeps telling the truth after the upgrade: a user revoked
# before is disabled, a release in the same second as the last build counts as
# in that CRL, and the last CRL is not taken as published.
. "$(dirname "$0")/lib.sh" "$1"

ck ca init --name "Upgrade CA" > /dev/null 2>&1
ck ca show --pem > "$WORK/ca.pem"
for u in alice bob; do
  ck user create $u --cn $u --email $u@example.org --out "$WORK/b" --password-file "$WORK/$u.pw" > /dev/null
done
ck user revoke alice --reason affiliationChanged > /dev/null
cp "$WORK/b/bob.crt" "$WORK/bob-old.crt"
ck user renew bob --out "$WORK/b" --password-file "$WORK/bob2.pw" > /dev/null
ck user confirm bob > /dev/null
ck crl build --out "$WORK/ca.crl" > /dev/null
verify_out "$WORK/bob-old.crt" "$WORK/ca.crl" | grep -q "certificate revoked" || fail "bob's old certificate is in the CRL"
# Bob's release happened in the second the CRL was built (what an old store
# cannot tell apart by times).
sqlite3 "$H/certkeeper.db" "UPDATE revocations SET released_at = (SELECT max(this_update) FROM crls)
  WHERE cause = 'confirmed'"

# Back to schema 7: drop what schemas 8 to 16 added (16 only rebuilt an index).
sqlite3 "$H/certkeeper.db" <<'SQL'
DROP INDEX revocations_due;
CREATE INDEX revocations_due ON revocations(serial, released_at, reason, not_after)
  WHERE state = 'released' AND final_crl IS NULL;
ALTER TABLE ca DROP COLUMN key_uri;
DROP TABLE published_revocations;
CREATE TABLE saved_canaries AS SELECT * FROM crl_canaries;
DROP TABLE crl_canaries;
DROP TABLE crl_enforcement;
DROP INDEX certificates_expiry;
DROP TABLE user_leases;
DROP INDEX notifications_printed;
ALTER TABLE notifications DROP COLUMN state;
ALTER TABLE notifications DROP COLUMN link;
DROP INDEX revocations_new;
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE revocations DROP COLUMN release_seq;
ALTER TABLE revocations DROP COLUMN user_id;
ALTER TABLE crls DROP COLUMN release_seq;
ALTER TABLE crls DROP COLUMN publish_state;
ALTER TABLE crls DROP COLUMN published_at;
ALTER TABLE crls DROP COLUMN publish_error;
ALTER TABLE crls DROP COLUMN file_path;
ALTER TABLE crls DROP COLUMN file_sha256;
ALTER TABLE crls DROP COLUMN tickets;
DELETE FROM counters WHERE name = 'release_seq';
PRAGMA user_version = 7;
SQL

assert_eq "$(ck --json crl status | json 'd["released_since_last"]')" 0 \
  "a release in the second of the last build is in that CRL"
assert_eq "$(sqlite3 "$H/certkeeper.db" 'PRAGMA user_version')" 16 "migrated to the current schema"
# The last CRL was built by this certkeeper, with a canary a real schema-7
# store never had: give the canaries back, so the next build knows it.
sqlite3 "$H/certkeeper.db" "INSERT INTO crl_canaries SELECT * FROM saved_canaries; DROP TABLE saved_canaries"
expect_error "renew of a user revoked before the upgrade" "certkeeper user enable alice" -- \
  ck user renew alice --out "$WORK/b" --password-file "$WORK/alice2.pw"
rc=0; ck crl status --fail-if-stale > "$WORK/status" || rc=$?
assert_eq "$rc" 3 "the last CRL from before the upgrade is not known to be published"
grep -q "built by an earlier certkeeper" "$WORK/status" || fail "status: $(cat "$WORK/status")"
n=$(sqlite3 "$H/certkeeper.db" "select value from counters where name='crl_number'")
ck --json crl build --if-due --out "$WORK/ca.crl" > "$WORK/out.json"
assert_eq "$(json 'd["number"]' < "$WORK/out.json")" "$((n + 1))" "--if-due builds a recorded CRL"
ck crl status --fail-if-stale > "$WORK/status" || fail "after the upgrade's first build: $(cat "$WORK/status")"
verify_out "$WORK/bob-old.crt" "$WORK/ca.crl" | grep -q "certificate revoked" || fail "bob's old certificate stays revoked"
pass "a schema 7 store upgrades without a false alarm or a false green"
