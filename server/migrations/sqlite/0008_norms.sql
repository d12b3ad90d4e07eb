-- Activity norms per role and the alerts on neglected leads. Keep in step
-- with the other backend.

-- A new lead should get its first response within this many minutes; the
-- version guards the norms against a second editor's save being lost.
ALTER TABLE organizations ADD COLUMN response_norm_min INTEGER NOT NULL DEFAULT 15
    CHECK (response_norm_min BETWEEN 1 AND 1440);
ALTER TABLE organizations ADD COLUMN norms_version INTEGER NOT NULL DEFAULT 0;

-- People of `role` should do `target` of `kind` each `per`.
CREATE TABLE activity_norms (
    org_id  INTEGER NOT NULL REFERENCES organizations(id),
    role    TEXT    NOT NULL CHECK (role IN ('manager', 'head')),
    kind    TEXT    NOT NULL CHECK (kind IN ('calls', 'meetings', 'proposals', 'chats', 'leads_processed')),
    per     TEXT    NOT NULL CHECK (per IN ('day', 'week')),
    target  INTEGER NOT NULL CHECK (target BETWEEN 1 AND 10000),
    PRIMARY KEY (org_id, role, kind, per)
);

-- When a lead was disqualified, for "disqualified without activity". Earlier
-- disqualifications are dated by their first response, which a status change sets.
ALTER TABLE leads ADD COLUMN disqualified_at INTEGER;
UPDATE leads SET disqualified_at = COALESCE(first_response_at, created_at) WHERE status = 'disqualified';
CREATE INDEX leads_org_disqualified ON leads(org_id, disqualified_at);
-- Leads still waiting for a first response are few; a partial index keeps
-- the "unanswered" alert from reading the organisation's whole history.
CREATE INDEX leads_org_unanswered ON leads(org_id, created_at) WHERE status = 'new' AND first_response_at IS NULL;
