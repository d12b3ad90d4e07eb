-- The board's period and search filters. Keep in step with the other backend.

-- "Created within N days": a column's recent deals, open or closed lately,
-- and their sum from the index alone.
CREATE INDEX deals_stage_created ON deals(stage_id, created_at, closed_at, amount);

-- Search: the column totals index carries the lower-cased search text, so a
-- search reads index pages instead of every deal row of the column.
DROP INDEX deals_stage_totals;
CREATE INDEX deals_stage_totals ON deals(stage_id, closed_at, amount, search);
