-- Every move rewrites one open deal, so the pages of open deals are the
-- first to lose their all-visible mark, and index-only scans over them (the
-- goals' pipeline forecast, the board's column totals) fetch those rows from
-- the table again: the forecast took 43-49 ms at 200 000 deals right after
-- a benchmark's moves and 21-25 ms after a VACUUM. PostgreSQL's default
-- waits for a fifth of the table to change (40 000 moves at that size);
-- this vacuums deals after about one per cent. Keep in step with the other
-- backend.
ALTER TABLE deals SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
