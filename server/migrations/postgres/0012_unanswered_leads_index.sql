-- The unanswered-leads alert: SQLite preferred the covering creation index
-- (every lead created before the cut-off, ~1.2M at a million deals) to the
-- partial index, whose only range column was the same. With status and the
-- missing first response as equality columns, and the responsible for the
-- scope, the partial index answers the count and the list by itself.
-- Keep in step with the other backend.
DROP INDEX leads_org_unanswered;
CREATE INDEX leads_org_unanswered ON leads(org_id, status, first_response_at, created_at, responsible_id)
    WHERE status = 'new' AND first_response_at IS NULL;
