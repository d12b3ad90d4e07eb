-- KPIs are counted straight from the records; these indexes let each count
-- read one range of one index. Keep in step with the other backend.

-- Which calls count: those at least this long (seconds).
ALTER TABLE organizations ADD COLUMN call_threshold_s INTEGER NOT NULL DEFAULT 30
    CHECK (call_threshold_s BETWEEN 0 AND 3600);

-- What the client said of a closed deal: CSAT 1–5, NPS 0–10.
ALTER TABLE deals ADD COLUMN csat INTEGER CHECK (csat BETWEEN 1 AND 5);
ALTER TABLE deals ADD COLUMN nps INTEGER CHECK (nps BETWEEN 0 AND 10);

CREATE INDEX deals_closed ON deals(org_id, closed_at, responsible_id, stage_id, amount, created_at, repeat_client, csat, nps);
DROP INDEX leads_org_created;
CREATE INDEX leads_org_created ON leads(org_id, created_at, responsible_id, status, first_response_at);
CREATE INDEX leads_org_response ON leads(org_id, first_response_at, responsible_id);
CREATE INDEX clients_org_created ON clients(org_id, created_at, responsible_id);
DROP INDEX activities_org_at;
CREATE INDEX activities_org_at ON activities(org_id, at, user_id, kind, duration_s);
