-- CRL canaries (issue 19), and the short-lived certificates `probe
-- --client-user` presents in a user's name (purpose 'probe'), kept the same
-- way: recorded, revoked, before use; the key never kept.
-- Each CRL certkeeper builds revokes one certificate
-- made for that purpose: a server that refuses it enforces that CRL or a
-- newer one, and `crl check` learns which CRL each server enforces by trying
-- the canaries of the last few. `crl check` also issues, for each run, a
-- short-lived canary that is not revoked yet (every server must accept it);
-- it is recorded, revoked, before it is ever shown to a server, so the next
-- CRL lists it whatever becomes of the run. Canaries are not users'
-- certificates: they live here, not in `certificates`, so no listing, notice
-- or expiry report ever shows one.
CREATE TABLE crl_canaries (
  serial     BLOB    PRIMARY KEY,
  purpose    TEXT    NOT NULL CHECK (purpose IN ('crl', 'check', 'probe')),
  crl_number INTEGER,           -- purpose 'crl': the CRL it was made for
  not_before INTEGER NOT NULL,
  not_after  INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL,  -- the CRL entry's revocationDate
  der        BLOB    NOT NULL,
  sealed_key BLOB,              -- 'crl': the key, sealed under the CA key; else none kept
  final_crl  INTEGER            -- the last CRL listing it (RFC 5280 §3.3), as in revocations
);
