-- The by-manager table filtered by source or client type read every row of
-- the period from the table to test those two columns; with them in the index
-- it reads the index alone (37 → 19 ms for one source over 90 days at 200 000
-- deals). Keep in step with the other backend.
DROP INDEX funnel_days_by_day;
CREATE INDEX funnel_days_by_day ON funnel_days(pipeline_id, mode, day, responsible_id, stage_id, deals, org_id)
    INCLUDE (source, repeat_client);
