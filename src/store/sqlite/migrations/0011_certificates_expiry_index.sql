-- serve's certificate list pages by (notAfter, serial) over every state: with
-- this index a page reads its hundred rows in order and stops, instead of
-- reading every certificate (with its DER) to sort them.
CREATE INDEX certificates_expiry ON certificates(not_after, serial);
