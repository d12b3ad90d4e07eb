-- PostgreSQL vacuums deals sooner so its index-only scans stay index-only.
-- SQLite has no visibility map and nothing to change; the file keeps both
-- backends' migration numbers in step.
SELECT 1;
