-- A board search reads each column's matching ids and amounts in one pass
-- over deals_stage_totals, which carries the search text. With the id in the
-- index that pass never visits the table: PostgreSQL checks a LIKE on index
-- columns only in an index-only scan.
-- Keep in step with the other backend.
DROP INDEX deals_stage_totals;
CREATE INDEX deals_stage_totals ON deals(stage_id, closed_at, amount, search) INCLUDE (id);
