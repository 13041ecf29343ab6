-- `expiring` reads only this index: every column it prints is in it, so the
-- certificate rows (with their DER) are never touched. Replaces the
-- notAfter-only index of schema 1.
CREATE INDEX certificates_active_expiring ON certificates(
  not_after, user_id, serial, key_type, not_before, issued_at, status, superseded_by, delivery,
  ticket) WHERE status = 'active';
DROP INDEX certificates_active_expiry;
