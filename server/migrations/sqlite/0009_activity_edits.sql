-- Activities can be corrected (kind, call length, note). Keep in step with
-- the other backend. An edit carries the version it was read at, like leads.
ALTER TABLE activities ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
