-- Medians of time in stage for some people: the period-first indexes of
-- 0005 read every time of the period and dropped other people's (at 1M
-- deals, 280 000 entries for a quarter even for one manager). These start
-- with the person, so one manager's quarter reads only theirs (4 ms instead
-- of 40 in SQLite); everyone's keeps the period-first ones.
-- Keep in step with the other backend.
CREATE INDEX funnel_reach_owner_times_created
    ON funnel_reach(pipeline_id, responsible_id, created_day, source, repeat_client, stage_id, time_ms, org_id);
CREATE INDEX funnel_reach_owner_times_left
    ON funnel_reach(pipeline_id, responsible_id, left_day, source, repeat_client, stage_id, time_ms, org_id);
