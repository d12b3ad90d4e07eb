-- Deals created per person and day (`KpiCounts::deals_created`), so goals
-- on "deals created" sum the roll-up instead of every deal of their period.
-- Every organisation's roll-up is counted again from the records on the
-- next start.
ALTER TABLE kpi_days ADD COLUMN deals_created BIGINT NOT NULL DEFAULT 0;
UPDATE organizations SET kpi_built = FALSE;
