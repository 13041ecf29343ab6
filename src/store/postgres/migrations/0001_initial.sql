-- certkeeper schema on PostgreSQL, version 1: the SQLite schema 13 in one
-- step (the SQLite history is not replayed here). Times are seconds since
-- the epoch (UTC); serials the big-endian magnitude bytes of the
-- certificate serial number. Enum columns carry CHECKs and are parsed
-- strictly on read (store/types.h).

CREATE TABLE ca (
  id             SMALLINT PRIMARY KEY CHECK (id = 1),
  name           TEXT     NOT NULL,
  key_type       TEXT     NOT NULL,
  cert_der       BYTEA    NOT NULL,
  key_pem        TEXT     NOT NULL,
  key_encrypted  BOOLEAN  NOT NULL,
  crl_validity_s BIGINT   NOT NULL,
  created_at     BIGINT   NOT NULL
);

CREATE TABLE users (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        TEXT   NOT NULL UNIQUE,
  cn          TEXT   NOT NULL,
  email       TEXT   NOT NULL,
  org         TEXT   NOT NULL DEFAULT '',
  ou          TEXT   NOT NULL DEFAULT '',
  locality    TEXT   NOT NULL DEFAULT '',
  state       TEXT   NOT NULL DEFAULT '',
  country     TEXT   NOT NULL DEFAULT '',
  phone       TEXT   NOT NULL DEFAULT '',
  created_at  BIGINT NOT NULL,
  disabled_at BIGINT
);

-- A serial is UNIQUE: a collision (two processes drawing the same random
-- 128 bits, or a restored dump) fails the insert and the issuer draws again.
CREATE TABLE certificates (
  id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  serial        BYTEA  NOT NULL UNIQUE,
  user_id       BIGINT NOT NULL REFERENCES users (id),
  key_type      TEXT   NOT NULL,
  not_before    BIGINT NOT NULL,
  not_after     BIGINT NOT NULL,
  issued_at     BIGINT NOT NULL,
  der           BYTEA  NOT NULL,
  status        TEXT   NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
  superseded_by BYTEA  REFERENCES certificates (serial),
  delivery      TEXT   NOT NULL CHECK (delivery IN ('pending', 'delivered', 'external')),
  ticket        TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX certificates_user ON certificates (user_id);
CREATE INDEX certificates_active_expiring ON certificates (not_after) WHERE status = 'active';
CREATE INDEX certificates_expiry ON certificates (not_after, serial);

CREATE TABLE revocations (
  cert_id      BIGINT PRIMARY KEY REFERENCES certificates (id),
  serial       BYTEA  NOT NULL UNIQUE,   -- copy of certificates.serial for the CRL scan
  user_id      BIGINT NOT NULL REFERENCES users (id),
  not_after    BIGINT NOT NULL,          -- copy of certificates.not_after, likewise
  reason       INTEGER NOT NULL,
  state        TEXT   NOT NULL CHECK (state IN ('held', 'released', 'dropped')),
  requested_at BIGINT NOT NULL,
  released_at  BIGINT,
  cause        TEXT   CHECK (cause IN ('immediate', 'confirmed', 'observed', 'undelivered',
                                      'imported')),
  ticket       TEXT   NOT NULL DEFAULT '',
  replacement  BYTEA,
  final_crl    BIGINT,
  release_seq  BIGINT NOT NULL DEFAULT 0,
  CHECK ((state = 'released') = (released_at IS NOT NULL))
);
CREATE INDEX revocations_due ON revocations (serial) WHERE state = 'released' AND final_crl IS NULL;
CREATE INDEX revocations_due_expiry ON revocations (not_after)
  WHERE state = 'released' AND final_crl IS NULL;
CREATE INDEX revocations_held ON revocations (not_after) WHERE state = 'held';
-- What the next CRL adds (count_released_since, a later build's new
-- entries): a range of the release sequence.
CREATE INDEX revocations_new ON revocations (release_seq)
  WHERE state = 'released' AND final_crl IS NULL;

-- number is the CRL number: unique, and handed out from counters under the
-- row lock of the counter (see postgres_store.cpp), so number order is
-- commit order.
CREATE TABLE crls (
  number        BIGINT PRIMARY KEY,
  this_update   BIGINT NOT NULL,
  next_update   BIGINT NOT NULL,
  entries       BIGINT NOT NULL,
  der           BYTEA,                    -- kept for the latest CRLs only
  serials       BYTEA,
  release_seq   BIGINT NOT NULL DEFAULT 0,
  publish_state TEXT   CHECK (publish_state IN ('ok', 'failed', 'none')),
  published_at  BIGINT,
  publish_error TEXT   NOT NULL DEFAULT '',
  file_path     TEXT   NOT NULL DEFAULT '',
  file_sha256   TEXT   NOT NULL DEFAULT '',
  tickets       TEXT   NOT NULL DEFAULT ''
);

-- A CRL's DER and serial list are random bytes: storing them uncompressed
-- saves trying (half a second for a million-entry list).
ALTER TABLE crls ALTER COLUMN der SET STORAGE EXTERNAL,
  ALTER COLUMN serials SET STORAGE EXTERNAL;

CREATE TABLE counters (
  name  TEXT   PRIMARY KEY,
  value BIGINT NOT NULL
);
-- changes: raised by every write transaction (serve polls it for changes).
INSERT INTO counters (name, value) VALUES ('crl_number', 0), ('release_seq', 1), ('changes', 0);

CREATE TABLE audit (
  id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at      BIGINT NOT NULL,
  actor   TEXT   NOT NULL,
  action  TEXT   NOT NULL,
  subject TEXT   NOT NULL,
  detail  TEXT   NOT NULL
);
CREATE INDEX audit_subject ON audit (subject);

CREATE TABLE notifications (
  key       TEXT   NOT NULL,
  channel   TEXT   NOT NULL,
  method    TEXT   NOT NULL,   -- smtp, mailto, conduit, link, webhook
  at        BIGINT NOT NULL,
  reference TEXT   NOT NULL DEFAULT '',  -- ticket id, Message-ID, recipient
  state     TEXT   NOT NULL DEFAULT 'sent' CHECK (state IN ('sent', 'printed')),
  link      TEXT   NOT NULL DEFAULT '',
  PRIMARY KEY (key, channel)
);
CREATE INDEX notifications_printed ON notifications (at) WHERE state = 'printed';

CREATE TABLE server_certs (
  name          TEXT    NOT NULL,
  version       BIGINT  NOT NULL,
  source        TEXT    NOT NULL,          -- acme, import
  domains       TEXT    NOT NULL,          -- one name per line, as ordered
  cert_der      BYTEA   NOT NULL,
  chain_pem     TEXT    NOT NULL DEFAULT '',
  key_pem       TEXT    NOT NULL,
  key_encrypted BOOLEAN NOT NULL,
  not_before    BIGINT  NOT NULL,
  not_after     BIGINT  NOT NULL,
  created_at    BIGINT  NOT NULL,
  sha256        TEXT    NOT NULL,          -- lower-case hex of the DER
  settings      TEXT    NOT NULL DEFAULT '{}',
  PRIMARY KEY (name, version)
);

CREATE TABLE acme_accounts (
  directory     TEXT    PRIMARY KEY,
  key_pem       TEXT    NOT NULL,
  key_encrypted BOOLEAN NOT NULL,
  email         TEXT    NOT NULL DEFAULT '',
  created_at    BIGINT  NOT NULL
);

CREATE TABLE rollouts (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  plan            TEXT   NOT NULL,          -- absolute path of the plan file
  cert_source     TEXT   NOT NULL,          -- "stored 'x' version 3", "file ..."
  cert_sha256     TEXT   NOT NULL,
  previous_sha256 TEXT   NOT NULL DEFAULT '',
  state           TEXT   NOT NULL,          -- rollout/state.h, parsed strictly there
  started_at      BIGINT NOT NULL,
  finished_at     BIGINT,
  detail          TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX rollouts_by_plan ON rollouts (plan, id);

CREATE TABLE rollout_steps (
  rollout_id    BIGINT  NOT NULL REFERENCES rollouts (id),
  target        TEXT    NOT NULL,
  stage         TEXT    NOT NULL,
  state         TEXT    NOT NULL,           -- rollout/state.h, parsed strictly there
  at            BIGINT  NOT NULL,
  detail        TEXT    NOT NULL DEFAULT '',
  backup        BYTEA   NOT NULL DEFAULT '',
  backup_sealed BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (rollout_id, target)
);

CREATE TABLE user_leases (
  user_name   TEXT   PRIMARY KEY,
  holder      TEXT   NOT NULL,  -- "pid@host" of the process holding it
  actor       TEXT   NOT NULL,  -- who runs that process ("alice@ops1")
  token       TEXT   NOT NULL,  -- random; only the holder knows it
  acquired_at BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL   -- the holder extends it at each step
);

CREATE TABLE crl_canaries (
  serial     BYTEA  PRIMARY KEY,
  seq        BIGINT GENERATED ALWAYS AS IDENTITY,  -- insertion order, for listings
  purpose    TEXT   NOT NULL CHECK (purpose IN ('crl', 'check', 'probe')),
  crl_number BIGINT,            -- purpose 'crl': the CRL it was made for
  not_before BIGINT NOT NULL,
  not_after  BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL,   -- the CRL entry's revocationDate
  der        BYTEA  NOT NULL,
  sealed_key BYTEA,             -- 'crl': the key, sealed under the CA key; else none kept
  final_crl  BIGINT             -- the last CRL listing it (RFC 5280 §3.3), as in revocations
);

CREATE TABLE crl_enforcement (
  endpoint   TEXT   PRIMARY KEY,
  state      TEXT   NOT NULL CHECK (state IN ('newest', 'stale', 'accepts-revoked',
                                              'no-client-check', 'refuses-valid',
                                              'unreachable', 'unknown')),
  crl_number BIGINT,
  last_crl   BIGINT NOT NULL,
  checked_at BIGINT NOT NULL,
  detail     TEXT   NOT NULL
);
