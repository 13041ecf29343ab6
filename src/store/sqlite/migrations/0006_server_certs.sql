-- Server certificates (ACME-issued or imported), one row per version: a
-- renewal adds version N+1, so the version before the current one is what a
-- rollback puts back. The key is PKCS#8 PEM, encrypted like the CA key when a
-- passphrase is set. `settings` is the JSON the next renewal reuses
-- (directory, challenge, hook, output folder, ...); never a secret.
CREATE TABLE server_certs (
  name          TEXT    NOT NULL,
  version       INTEGER NOT NULL,
  source        TEXT    NOT NULL,          -- acme, import
  domains       TEXT    NOT NULL,          -- one name per line, as ordered
  cert_der      BLOB    NOT NULL,
  chain_pem     TEXT    NOT NULL DEFAULT '',
  key_pem       TEXT    NOT NULL,
  key_encrypted INTEGER NOT NULL,
  not_before    INTEGER NOT NULL,
  not_after     INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  sha256        TEXT    NOT NULL,          -- lower-case hex of the DER
  settings      TEXT    NOT NULL DEFAULT '{}',
  PRIMARY KEY (name, version)
) WITHOUT ROWID;

-- ACME accounts certkeeper created, one per directory URL.
CREATE TABLE acme_accounts (
  directory     TEXT    PRIMARY KEY,
  key_pem       TEXT    NOT NULL,
  key_encrypted INTEGER NOT NULL,
  email         TEXT    NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL
) WITHOUT ROWID;
