-- The rollout journal: one row per `rollout apply` of a plan, one row per
-- target it touched. `backup` holds what a `files` deploy replaced (paths,
-- bytes, modes) so rollback puts back exactly those bytes; it contains keys,
-- so it is sealed (AES-256-GCM, core/seal.h) when a passphrase is set.
CREATE TABLE rollouts (
  id              INTEGER PRIMARY KEY,
  plan            TEXT    NOT NULL,          -- absolute path of the plan file
  cert_source     TEXT    NOT NULL,          -- "stored 'x' version 3", "file ..."
  cert_sha256     TEXT    NOT NULL,
  previous_sha256 TEXT    NOT NULL DEFAULT '',
  state           TEXT    NOT NULL,          -- running, failed, done, rolled-back
  started_at      INTEGER NOT NULL,
  finished_at     INTEGER,
  detail          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX rollouts_by_plan ON rollouts (plan, id);

CREATE TABLE rollout_steps (
  rollout_id    INTEGER NOT NULL REFERENCES rollouts (id),
  target        TEXT    NOT NULL,
  stage         TEXT    NOT NULL,
  state         TEXT    NOT NULL,            -- deploying, deployed, verified, failed, rolled-back
  at            INTEGER NOT NULL,
  detail        TEXT    NOT NULL DEFAULT '',
  backup        BLOB    NOT NULL DEFAULT X'',
  backup_sealed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (rollout_id, target)
) WITHOUT ROWID;
