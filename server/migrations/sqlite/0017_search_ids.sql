-- A board search reads each column's matching ids and amounts in one pass
-- over deals_stage_totals, which carries the search text. SQLite's indexes
-- end with the row id already, so there is nothing to change here; the file
-- keeps both backends' migration numbers in step.
SELECT 1;
