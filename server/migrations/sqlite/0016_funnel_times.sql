-- Medians of time in stage without reading every time of the period
-- (`app::funnel::time_bucket`, docs/design.md "Funnel"). A histogram of the
-- finished times counts them per bucket for everyone, per day and per block
-- of 8 days; a report sums the histogram, finds the bucket that holds the
-- middle, and reads only that bucket's times. Keep in step with the other
-- backend.

-- The bucket of a time: its number of digits and its leading digit, as
-- `app::funnel::time_bucket` computes it. Buckets keep the order of times.
ALTER TABLE funnel_reach ADD COLUMN time_bucket INTEGER GENERATED ALWAYS AS (
    CASE WHEN time_ms < 0 THEN 10
         ELSE LENGTH(CAST(time_ms AS TEXT)) * 10 + CAST(SUBSTR(CAST(time_ms AS TEXT), 1, 1) AS INTEGER) END
) VIRTUAL;

-- One bucket's times of a period, without the other buckets' (cohort by
-- creation, flow by leaving).
CREATE INDEX funnel_reach_bucket_created
    ON funnel_reach(pipeline_id, stage_id, time_bucket, created_day, repeat_client, time_ms, org_id);
CREATE INDEX funnel_reach_bucket_left
    ON funnel_reach(pipeline_id, stage_id, time_bucket, left_day, repeat_client, time_ms, org_id);

-- How many finished times fall in each bucket (`app::funnel::TimeKey`):
-- `span` 1 is one day starting at `start_day`, 8 a block of eight days
-- starting at a multiple of 8. Everyone's only: a report of some people
-- reads their own times.
CREATE TABLE funnel_times (
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    pipeline_id     INTEGER NOT NULL REFERENCES pipelines(id),
    mode            TEXT    NOT NULL CHECK (mode IN ('cohort', 'flow')),
    span            INTEGER NOT NULL CHECK (span IN (1, 8)),
    start_day       INTEGER NOT NULL,
    repeat_client   BOOLEAN NOT NULL,
    stage_id        INTEGER NOT NULL,
    bucket          INTEGER NOT NULL,
    times           INTEGER NOT NULL,
    PRIMARY KEY (pipeline_id, mode, span, start_day, repeat_client, stage_id, bucket)
) WITHOUT ROWID;

INSERT INTO funnel_times (org_id, pipeline_id, mode, span, start_day, repeat_client, stage_id, bucket, times)
SELECT org_id, pipeline_id, 'cohort', 1, created_day, repeat_client, stage_id, time_bucket, COUNT(*)
FROM funnel_reach WHERE time_ms IS NOT NULL
GROUP BY org_id, pipeline_id, created_day, repeat_client, stage_id, time_bucket;

INSERT INTO funnel_times (org_id, pipeline_id, mode, span, start_day, repeat_client, stage_id, bucket, times)
SELECT org_id, pipeline_id, 'cohort', 8, (created_day / 8) * 8, repeat_client, stage_id, time_bucket, COUNT(*)
FROM funnel_reach WHERE time_ms IS NOT NULL
GROUP BY org_id, pipeline_id, (created_day / 8) * 8, repeat_client, stage_id, time_bucket;

INSERT INTO funnel_times (org_id, pipeline_id, mode, span, start_day, repeat_client, stage_id, bucket, times)
SELECT org_id, pipeline_id, 'flow', 1, left_day, repeat_client, stage_id, time_bucket, COUNT(*)
FROM funnel_reach WHERE time_ms IS NOT NULL AND left_day IS NOT NULL
GROUP BY org_id, pipeline_id, left_day, repeat_client, stage_id, time_bucket;

INSERT INTO funnel_times (org_id, pipeline_id, mode, span, start_day, repeat_client, stage_id, bucket, times)
SELECT org_id, pipeline_id, 'flow', 8, (left_day / 8) * 8, repeat_client, stage_id, time_bucket, COUNT(*)
FROM funnel_reach WHERE time_ms IS NOT NULL AND left_day IS NOT NULL
GROUP BY org_id, pipeline_id, (left_day / 8) * 8, repeat_client, stage_id, time_bucket;
