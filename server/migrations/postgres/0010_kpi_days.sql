-- KPIs are read from per-person, per-day sums (`app::kpi::shares`), kept in
-- the transaction of every change to a deal, lead, client or activity and
-- rebuilt from the records when the call threshold changes. Keep in step
-- with the other backend.

-- One row per person (0: records nobody owns) and day in the organisation's
-- zone; the columns are `app::kpi::KpiCounts`. Calls count at the
-- organisation's current threshold.
CREATE TABLE kpi_days (
    org_id          BIGINT NOT NULL REFERENCES organizations(id),
    day             BIGINT  NOT NULL,
    user_id         BIGINT NOT NULL,
    won             BIGINT NOT NULL,
    revenue         BIGINT NOT NULL,
    cycle_ms        BIGINT NOT NULL,
    repeat_won      BIGINT NOT NULL,
    lost            BIGINT NOT NULL,
    leads           BIGINT NOT NULL,
    leads_converted BIGINT NOT NULL,
    leads_answered  BIGINT NOT NULL,
    response_ms     BIGINT NOT NULL,
    leads_processed BIGINT NOT NULL,
    new_clients     BIGINT NOT NULL,
    calls_in        BIGINT NOT NULL,
    calls_out       BIGINT NOT NULL,
    meetings        BIGINT NOT NULL,
    proposals       BIGINT NOT NULL,
    chats           BIGINT NOT NULL,
    csat_rated      BIGINT NOT NULL,
    csat_sum        BIGINT NOT NULL,
    nps_rated       BIGINT NOT NULL,
    promoters       BIGINT NOT NULL,
    detractors      BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, user_id)
);

-- Organisations whose records predate the roll-up get it built on the next start.
ALTER TABLE organizations ADD COLUMN kpi_built BOOLEAN NOT NULL DEFAULT FALSE;
