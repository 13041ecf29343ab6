-- After each CRL build, entries whose certificate expired before that CRL's
-- thisUpdate are marked as listed for the last time; find them by notAfter
-- instead of scanning every due entry.
CREATE INDEX revocations_due_expiry ON revocations(not_after)
  WHERE state = 'released' AND final_crl IS NULL;
