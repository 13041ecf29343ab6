-- The CA key in a PKCS#11 token: named by its RFC 7512 URI, key_pem empty
-- (the SQLite migration 15). The PIN and the module are never stored.
ALTER TABLE ca ADD COLUMN key_uri TEXT NOT NULL DEFAULT '';
