-- Revocations the store knows only from a CRL it published (`certkeeper store
-- reconcile --crl FILE`; the SQLite migration 14 says why they are kept).
CREATE TABLE published_revocations (
  serial      BYTEA  PRIMARY KEY,
  revoked_at  BIGINT NOT NULL,
  reason      INTEGER NOT NULL,
  crl_number  BIGINT NOT NULL,
  imported_at BIGINT NOT NULL
);
