-- A link or mailto: channel only prints a notice for someone to open; nobody
-- is written to until a person acts on it. Such a notice is recorded as
-- 'printed' (not 'sent'), with the link it printed, so the ops digest can list
-- it until the certificate is renewed or expires. Rows written before this
-- knew no difference: their link/mailto rows were printed, and their links
-- were not kept.
ALTER TABLE notifications ADD COLUMN state TEXT NOT NULL DEFAULT 'sent';  -- sent, printed
ALTER TABLE notifications ADD COLUMN link TEXT NOT NULL DEFAULT '';       -- printed: the URL
UPDATE notifications SET state = 'printed' WHERE method IN ('link', 'mailto');
CREATE INDEX notifications_printed ON notifications (at) WHERE state = 'printed';
