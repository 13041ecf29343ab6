-- Three facts the CLI used to guess at.
--
-- 1. A user whose current certificate was revoked (they left, the key leaked)
--    stays out: `user renew` is refused until `user enable`. Users revoked
--    before this schema (no active certificate, newest one revoked) are
--    disabled as of that revocation.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
UPDATE users SET disabled_at = (
    SELECT max(r.released_at) FROM revocations r JOIN certificates c ON c.id = r.cert_id
    WHERE c.user_id = users.id AND c.status = 'revoked')
  WHERE NOT EXISTS (SELECT 1 FROM certificates c WHERE c.user_id = users.id AND c.status = 'active')
    AND (SELECT c.status FROM certificates c WHERE c.user_id = users.id
         ORDER BY c.issued_at DESC, c.id DESC LIMIT 1) = 'revoked';

-- 2. "Released since the last CRL" is decided by a sequence, not by times: a
--    release and a build in the same second are told apart. Every release
--    takes the next value of counters.release_seq; a CRL records the value it
--    was built at. Rows from before: released at or after the last CRL's
--    thisUpdate count as new, the others do not; then the migration code
--    (sqlite_store.cpp, settle_migrated_release_seq) takes back those the
--    last CRL lists, released in the second it was built.
ALTER TABLE revocations ADD COLUMN release_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE crls ADD COLUMN release_seq INTEGER NOT NULL DEFAULT 0;
INSERT INTO counters (name, value) VALUES ('release_seq', 1);
UPDATE revocations SET release_seq = 1
  WHERE state = 'released'
    AND released_at >= coalesce((SELECT max(this_update) FROM crls), -9223372036854775807);
-- What a new CRL adds, with user, reason and ticket, is one range over this
-- covering index (no lookup per entry; the first CRL of 1,000,000 entries
-- lists them all). user_id is a copy of certificates.user_id, like serial.
ALTER TABLE revocations ADD COLUMN user_id INTEGER REFERENCES users(id);
UPDATE revocations SET user_id = (SELECT c.user_id FROM certificates c WHERE c.id = cert_id);
CREATE INDEX revocations_new ON revocations(release_seq, serial, reason, user_id, ticket)
  WHERE state = 'released' AND final_crl IS NULL;

-- 3. Each CRL's publish outcome, so a failed publish is retried (`crl build
--    --if-due`) and shown (`crl status`). publish_state: NULL while not
--    attempted (a crash, or the file could not be written), 'ok', 'failed',
--    'none' (no publish command). The written file's path and SHA-256 tell a
--    retry whether that file still holds this CRL; the tickets of the entries
--    it added go to the publish command again on a retry.
ALTER TABLE crls ADD COLUMN publish_state TEXT
  CHECK (publish_state IN ('ok', 'failed', 'none'));
ALTER TABLE crls ADD COLUMN published_at INTEGER;
ALTER TABLE crls ADD COLUMN publish_error TEXT NOT NULL DEFAULT '';
ALTER TABLE crls ADD COLUMN file_path TEXT NOT NULL DEFAULT '';
ALTER TABLE crls ADD COLUMN file_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE crls ADD COLUMN tickets TEXT NOT NULL DEFAULT '';
-- Earlier CRLs' publish outcome is unknown (NULL): the first `crl build
-- --if-due` after the upgrade builds and publishes a CRL whose outcome is
-- recorded, and `crl status --fail-if-stale` says so until then.
