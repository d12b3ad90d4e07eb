-- The board: stage discipline per pipeline, idempotent moves, violations.
-- Keep in step with ../postgres.

ALTER TABLE pipelines ADD COLUMN block_skips BOOLEAN NOT NULL DEFAULT FALSE;

-- The answer to each move, by the key its client sent: a retry gets the same answer.
CREATE TABLE move_keys (
    actor_id   INTEGER NOT NULL REFERENCES users(id),
    idem_key   TEXT    NOT NULL,
    deal_id    INTEGER NOT NULL REFERENCES deals(id),
    stage_id   INTEGER NOT NULL REFERENCES stages(id),
    version    INTEGER NOT NULL,
    skipped    TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (actor_id, idem_key)
);

-- Moves that jumped over a required stage, made or refused.
CREATE TABLE stage_violations (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES organizations(id),
    deal_id        INTEGER NOT NULL REFERENCES deals(id),
    actor_id       INTEGER NOT NULL REFERENCES users(id),
    at             INTEGER NOT NULL,
    from_stage_id  INTEGER NOT NULL REFERENCES stages(id),
    to_stage_id    INTEGER NOT NULL REFERENCES stages(id),
    blocked        BOOLEAN NOT NULL
);
CREATE INDEX stage_violations_org_at ON stage_violations(org_id, at);

-- The board reads column by column: counts and sums straight from the index,
-- the newest cards in stage order, one person's deals through their own index.
DROP INDEX deals_board;
CREATE INDEX deals_stage_totals ON deals(stage_id, closed_at, amount);
CREATE INDEX deals_stage_recent ON deals(stage_id, stage_entered_at);
CREATE INDEX deals_owner_stage ON deals(responsible_id, stage_id, closed_at);
CREATE INDEX deals_lead ON deals(lead_id);
CREATE INDEX clients_org_name ON clients(org_id, name);

-- Lower-cased title and client name: case-insensitive search for Cyrillic on both backends.
ALTER TABLE deals ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE deals SET search = LOWER(title);
