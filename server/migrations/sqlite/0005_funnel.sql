-- The funnel's roll-ups, kept in the transaction of every deal change and
-- rebuildable from deal_events. Keep in step with the other backend.

-- New or repeat client, fixed when the deal is created: did the client have
-- a won deal closed before?
ALTER TABLE deals ADD COLUMN repeat_client BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per deal and funnel step it reached (`app::funnel::Reach`): the
-- deals behind a figure and the medians of time in stage are read here.
CREATE TABLE funnel_reach (
    deal_id         INTEGER NOT NULL REFERENCES deals(id),
    stage_id        INTEGER NOT NULL REFERENCES stages(id),
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    pipeline_id     INTEGER NOT NULL REFERENCES pipelines(id),
    responsible_id  INTEGER NOT NULL,
    source          TEXT    NOT NULL,
    repeat_client   BOOLEAN NOT NULL,
    amount          INTEGER NOT NULL,
    created_day     INTEGER NOT NULL,
    reached_day     INTEGER NOT NULL,
    time_ms         INTEGER,
    left_day        INTEGER,
    lost_day        INTEGER,
    cycle_ms        INTEGER,
    PRIMARY KEY (deal_id, stage_id)
) WITHOUT ROWID;
-- The deals behind a figure: one step's deals of a period.
CREATE INDEX funnel_reach_created ON funnel_reach(pipeline_id, stage_id, created_day);
CREATE INDEX funnel_reach_reached ON funnel_reach(pipeline_id, stage_id, reached_day);
CREATE INDEX funnel_reach_lost ON funnel_reach(pipeline_id, stage_id, lost_day);
-- Medians of time in stage: a period's finished times with every filter
-- column, read from the index alone (cohort by creation, flow by leaving).
CREATE INDEX funnel_reach_times_created
    ON funnel_reach(pipeline_id, created_day, responsible_id, source, repeat_client, stage_id, time_ms, org_id);
CREATE INDEX funnel_reach_times_left
    ON funnel_reach(pipeline_id, left_day, responsible_id, source, repeat_client, stage_id, time_ms, org_id);

-- Per-day sums (`app::funnel::DayKey` → `Totals`); owner 0 holds everyone's.
CREATE TABLE funnel_days (
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    pipeline_id     INTEGER NOT NULL REFERENCES pipelines(id),
    mode            TEXT    NOT NULL CHECK (mode IN ('cohort', 'flow')),
    responsible_id  INTEGER NOT NULL,
    day             INTEGER NOT NULL,
    source          TEXT    NOT NULL,
    repeat_client   BOOLEAN NOT NULL,
    stage_id        INTEGER NOT NULL,
    deals           INTEGER NOT NULL,
    amount          INTEGER NOT NULL,
    lost            INTEGER NOT NULL,
    time_ms         INTEGER NOT NULL,
    timed           INTEGER NOT NULL,
    cycle_ms        INTEGER NOT NULL,
    PRIMARY KEY (pipeline_id, mode, responsible_id, day, source, repeat_client, stage_id)
) WITHOUT ROWID;
-- Every manager's rows of a period, for the by-manager table.
CREATE INDEX funnel_days_by_day ON funnel_days(pipeline_id, mode, day, responsible_id, stage_id, deals, org_id);
