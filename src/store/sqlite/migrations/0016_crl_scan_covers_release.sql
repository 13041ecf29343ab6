-- `crl build` tells the entries new since the last CRL from the scan it
-- builds the CRL from (release_seq above the last CRL's, with its ticket)
-- instead of a second scan: the index that scan reads covers them too.
DROP INDEX revocations_due;
CREATE INDEX revocations_due ON revocations(serial, released_at, reason, not_after, release_seq, ticket)
  WHERE state = 'released' AND final_crl IS NULL;
