-- KPIs are read from per-person, per-day sums (`app::kpi::shares`), kept in
-- the transaction of every change to a deal, lead, client or activity and
-- rebuilt from the records when the call threshold changes. Keep in step
-- with the other backend.

-- One row per person (0: records nobody owns) and day in the organisation's
-- zone; the columns are `app::kpi::KpiCounts`. Calls count at the
-- organisation's current threshold.
CREATE TABLE kpi_days (
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    day             INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    won             INTEGER NOT NULL,
    revenue         INTEGER NOT NULL,
    cycle_ms        INTEGER NOT NULL,
    repeat_won      INTEGER NOT NULL,
    lost            INTEGER NOT NULL,
    leads           INTEGER NOT NULL,
    leads_converted INTEGER NOT NULL,
    leads_answered  INTEGER NOT NULL,
    response_ms     INTEGER NOT NULL,
    leads_processed INTEGER NOT NULL,
    new_clients     INTEGER NOT NULL,
    calls_in        INTEGER NOT NULL,
    calls_out       INTEGER NOT NULL,
    meetings        INTEGER NOT NULL,
    proposals       INTEGER NOT NULL,
    chats           INTEGER NOT NULL,
    csat_rated      INTEGER NOT NULL,
    csat_sum        INTEGER NOT NULL,
    nps_rated       INTEGER NOT NULL,
    promoters       INTEGER NOT NULL,
    detractors      INTEGER NOT NULL,
    PRIMARY KEY (org_id, day, user_id)
) WITHOUT ROWID;

-- Organisations whose records predate the roll-up get it built on the next start.
ALTER TABLE organizations ADD COLUMN kpi_built BOOLEAN NOT NULL DEFAULT FALSE;
