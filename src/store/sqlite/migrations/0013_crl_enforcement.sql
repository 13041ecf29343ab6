-- What `crl check` last saw on each endpoint (issue 19), one row per endpoint,
-- replaced by every run (`crl check`, or `crl build` with [crl]
-- check_endpoints). `serve` holds no CA key and cannot issue the canaries a
-- check needs, so it shows these observations; it judges them against the
-- newest CRL when it shows them: an endpoint seen enforcing CRL #12 is not
-- "enforced" once #13 is built and nobody has checked again.
CREATE TABLE crl_enforcement (
  endpoint   TEXT    PRIMARY KEY,  -- the target as given to the check
  state      TEXT    NOT NULL CHECK (state IN ('newest', 'stale', 'accepts-revoked',
                                               'no-client-check', 'refuses-valid',
                                               'unreachable', 'unknown')),
  crl_number INTEGER,              -- the newest CRL whose canary it refused; NULL: none
  last_crl   INTEGER NOT NULL,     -- the newest CRL number when it was checked
  checked_at INTEGER NOT NULL,
  detail     TEXT    NOT NULL
);
