-- certkeeper schema, version 1.
-- Times are seconds since the epoch (UTC); serials are the big-endian
-- magnitude bytes of the certificate serial number.

CREATE TABLE ca (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  name           TEXT    NOT NULL,
  key_type       TEXT    NOT NULL,
  cert_der       BLOB    NOT NULL,
  key_pem        TEXT    NOT NULL,
  key_encrypted  INTEGER NOT NULL,
  crl_validity_s INTEGER NOT NULL,
  created_at     INTEGER NOT NULL
);

CREATE TABLE users (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  cn         TEXT NOT NULL,
  email      TEXT NOT NULL,
  org        TEXT NOT NULL DEFAULT '',
  ou         TEXT NOT NULL DEFAULT '',
  locality   TEXT NOT NULL DEFAULT '',
  state      TEXT NOT NULL DEFAULT '',
  country    TEXT NOT NULL DEFAULT '',
  phone      TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);

CREATE TABLE certificates (
  id            INTEGER PRIMARY KEY,
  serial        BLOB    NOT NULL UNIQUE,
  user_id       INTEGER NOT NULL REFERENCES users(id),
  key_type      TEXT    NOT NULL,
  not_before    INTEGER NOT NULL,
  not_after     INTEGER NOT NULL,
  issued_at     INTEGER NOT NULL,
  der           BLOB    NOT NULL,
  status        TEXT    NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
  superseded_by BLOB    REFERENCES certificates(serial),
  delivery      TEXT    NOT NULL CHECK (delivery IN ('pending', 'delivered', 'external')),
  ticket        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX certificates_user ON certificates(user_id);
-- `expiring` is an index range over the active certificates only.
CREATE INDEX certificates_active_expiry ON certificates(not_after) WHERE status = 'active';

CREATE TABLE revocations (
  cert_id      INTEGER PRIMARY KEY REFERENCES certificates(id),
  serial       BLOB    NOT NULL UNIQUE,   -- copy of certificates.serial for the CRL scan
  not_after    INTEGER NOT NULL,          -- copy of certificates.not_after, likewise
  reason       INTEGER NOT NULL,
  state        TEXT    NOT NULL CHECK (state IN ('held', 'released', 'dropped')),
  requested_at INTEGER NOT NULL,
  released_at  INTEGER,
  cause        TEXT,
  ticket       TEXT    NOT NULL DEFAULT '',
  replacement  BLOB,
  final_crl    INTEGER,
  CHECK ((state = 'released') = (released_at IS NOT NULL))
);
-- The CRL build scans exactly the rows it lists.
CREATE INDEX revocations_due ON revocations(serial, released_at, reason, not_after)
  WHERE state = 'released' AND final_crl IS NULL;
CREATE INDEX revocations_held ON revocations(not_after) WHERE state = 'held';

CREATE TABLE crls (
  number      INTEGER PRIMARY KEY,
  this_update INTEGER NOT NULL,
  next_update INTEGER NOT NULL,
  entries     INTEGER NOT NULL,
  der         BLOB                          -- kept for the latest CRLs only
);

CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('crl_number', 0);

CREATE TABLE audit (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  actor   TEXT    NOT NULL,
  action  TEXT    NOT NULL,
  subject TEXT    NOT NULL,
  detail  TEXT    NOT NULL
);
CREATE INDEX audit_subject ON audit(subject);
