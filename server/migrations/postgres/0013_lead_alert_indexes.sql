-- The lead alerts of one person: with only 0012, SQLite's planner took the
-- person's index of all their leads. A second small partial index with the
-- responsible before the creation time answers it; a whole department or
-- everyone keeps using 0012's. Silent leads have their own partial index
-- (0011), so the index of every disqualification is no longer read.
-- Keep in step with the other backend.
CREATE INDEX leads_owner_unanswered ON leads(org_id, status, first_response_at, responsible_id, created_at)
    WHERE status = 'new' AND first_response_at IS NULL;
DROP INDEX leads_org_disqualified;
