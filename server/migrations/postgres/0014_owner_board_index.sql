-- One person's board column, newest entries first: without it the column
-- walked the stage's index of every deal (deals_stage_recent), about 10 000
-- rows per column at 1M deals, to find one manager's 100 cards. A department
-- or everyone keeps that walk, which meets its cards early.
-- Keep in step with the other backend.
CREATE INDEX deals_owner_recent ON deals(responsible_id, stage_id, stage_entered_at);
