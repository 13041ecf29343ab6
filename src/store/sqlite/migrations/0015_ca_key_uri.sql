-- The CA key in a PKCS#11 token (issue 21): the row names it by its RFC 7512
-- URI and key_pem stays empty. The PIN and the module are never stored.
ALTER TABLE ca ADD COLUMN key_uri TEXT NOT NULL DEFAULT '';
