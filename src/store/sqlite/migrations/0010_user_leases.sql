-- Per-user leases. A change to one user (create, renew, revoke, confirm,
-- enable, an import row) takes several steps: a transaction that records the
-- certificate, files written, a transaction that marks it delivered. Two
-- processes (or, with a server store, two hosts) changing one user at once
-- would interleave those steps, so a change first takes the user's lease in
-- a short transaction of its own and gives it back when done. Keyed by the
-- user name, not users.id: `user create` and `user import` lease a name before
-- its row exists. A lease whose holder died is taken over once it expires
-- (or at once when the holder was a process on the same host that is gone);
-- see src/ca/user_lease.h.
CREATE TABLE user_leases (
  user_name   TEXT    PRIMARY KEY,
  holder      TEXT    NOT NULL,  -- "pid@host" of the process holding it
  actor       TEXT    NOT NULL,  -- who runs that process ("alice@ops1")
  token       TEXT    NOT NULL,  -- random; only the holder knows it
  acquired_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL   -- the holder extends it at each step
);
