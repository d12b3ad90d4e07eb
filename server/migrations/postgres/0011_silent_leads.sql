-- The "disqualified without activity" alert, kept on the lead: counting it
-- by looking up activities for every lead disqualified in the window read
-- tens of thousands of rows at a million deals. Set when a lead's status
-- changes, cleared by its first activity. Keep in step with the other backend.
ALTER TABLE leads ADD COLUMN silent BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE leads SET silent = (status = 'disqualified' AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.lead_id = leads.id));
CREATE INDEX leads_org_silent ON leads(org_id, disqualified_at, responsible_id) WHERE silent;
