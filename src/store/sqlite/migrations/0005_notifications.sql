-- What `notify` has done, per certificate (key = serial in hex) or per day
-- (key = "YYYY-MM-DD" for the ops digest) and per channel ("ticket", "email",
-- "digest"). A row is written only after the channel succeeded, so a failed
-- send is retried by the next run and a successful one is never repeated.
CREATE TABLE notifications (
  key       TEXT    NOT NULL,
  channel   TEXT    NOT NULL,
  method    TEXT    NOT NULL,   -- smtp, mailto, conduit, link, webhook
  at        INTEGER NOT NULL,
  reference TEXT    NOT NULL DEFAULT '',  -- ticket id, Message-ID, recipient
  PRIMARY KEY (key, channel)
) WITHOUT ROWID;
