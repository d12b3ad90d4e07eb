-- Lists of deals, clients and activities. Keep in step with the other backend.

-- Lower-cased name, phone and e-mail, filled by the application (SQLite's
-- LOWER() knows only ASCII), so client search ignores case in Cyrillic too.
ALTER TABLE clients ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE clients SET search = LOWER(name || ' ' || phone || ' ' || email);

-- A client's deals for its totals; a deal's and a lead's activities for their pages.
CREATE INDEX deals_client ON deals(client_id);
CREATE INDEX activities_deal ON activities(deal_id, at);
CREATE INDEX activities_lead ON activities(lead_id, at);

-- One person's (or one department's people's) column sums straight from the index.
DROP INDEX deals_owner_stage;
CREATE INDEX deals_owner_stage ON deals(responsible_id, stage_id, closed_at, amount);

-- Lead edits carry the version they were read at, like deals.
ALTER TABLE leads ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
