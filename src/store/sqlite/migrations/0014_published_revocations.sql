-- Revocations the store knows only from a CRL it published (issue 21,
-- `certkeeper store reconcile --crl FILE`): after a restore from an older
-- copy, the certificates issued and revoked since are not in the store, but
-- their serials were published as revoked and must stay listed. A CRL entry
-- carries no notAfter, so they are kept in every CRL until the CA itself
-- expires; a crl canary made after the copy is among them (a CRL entry cannot
-- tell one apart).
CREATE TABLE published_revocations (
  serial      BLOB    PRIMARY KEY,  -- magnitude bytes, as certificates.serial
  revoked_at  INTEGER NOT NULL,     -- the entry's revocationDate
  reason      INTEGER NOT NULL,     -- its CRLReason (0 when it had none)
  crl_number  INTEGER NOT NULL,     -- the published CRL it was read from
  imported_at INTEGER NOT NULL
);
