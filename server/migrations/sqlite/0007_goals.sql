-- Goals and sales plans. A goal's progress is always counted from the
-- records (deals, leads, activities, manual entries); only closing freezes
-- it. Keep in step with the other backend.

CREATE TABLE goals (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    parent_id       INTEGER REFERENCES goals(id),
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    metric          TEXT    NOT NULL CHECK (metric IN ('leads_created', 'deals_created', 'deals_won', 'won_amount',
                        'calls', 'meetings', 'proposals', 'chats', 'first_response', 'manual')),
    direction       TEXT    NOT NULL CHECK (direction IN ('higher', 'lower')),
    target          INTEGER NOT NULL CHECK (target >= 0),
    period_kind     TEXT    NOT NULL CHECK (period_kind IN ('day', 'week', 'month', 'quarter', 'year', 'custom')),
    -- Days (organisation's zone) since 1970-01-01, both ends included.
    start_day       INTEGER NOT NULL,
    end_day         INTEGER NOT NULL CHECK (end_day >= start_day),
    recurring       BOOLEAN NOT NULL DEFAULT FALSE,
    participant     TEXT    NOT NULL CHECK (participant IN ('user', 'department', 'company')),
    user_id         INTEGER REFERENCES users(id),
    department_id   INTEGER REFERENCES departments(id),
    filter_source   TEXT,
    filter_pipeline INTEGER REFERENCES pipelines(id),
    filter_stage    INTEGER REFERENCES stages(id),
    filter_manager  INTEGER REFERENCES users(id),
    notify_milestones BOOLEAN NOT NULL DEFAULT TRUE,
    notify_risk     BOOLEAN NOT NULL DEFAULT TRUE,
    notify_deadline BOOLEAN NOT NULL DEFAULT TRUE,
    notify_daily    BOOLEAN NOT NULL DEFAULT TRUE,
    status          TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'achieved', 'missed')),
    final_value     INTEGER,
    -- The frozen report (value, target, ranking) as JSON.
    final_report    TEXT,
    closed_at       INTEGER,
    -- The goal this one renewed from.
    renewed_from    INTEGER REFERENCES goals(id),
    version         INTEGER NOT NULL DEFAULT 0,
    created_by      INTEGER NOT NULL REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    CHECK ((participant = 'user') = (user_id IS NOT NULL)),
    CHECK ((participant = 'department') = (department_id IS NOT NULL))
);
CREATE INDEX goals_org_status ON goals(org_id, status, end_day);
CREATE INDEX goals_parent ON goals(parent_id);
-- A goal renews once.
CREATE UNIQUE INDEX goals_renewed ON goals(renewed_from);

-- Every change of a goal's target or settings: who, when, what.
CREATE TABLE goal_changes (
    id        INTEGER PRIMARY KEY,
    goal_id   INTEGER NOT NULL REFERENCES goals(id),
    actor_id  INTEGER REFERENCES users(id),
    at        INTEGER NOT NULL,
    field     TEXT    NOT NULL,
    old_value TEXT    NOT NULL DEFAULT '',
    new_value TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX goal_changes_goal ON goal_changes(goal_id, id);

-- Progress people record on manual goals (training done, say).
CREATE TABLE goal_entries (
    id        INTEGER PRIMARY KEY,
    goal_id   INTEGER NOT NULL REFERENCES goals(id),
    user_id   INTEGER NOT NULL REFERENCES users(id),
    at        INTEGER NOT NULL,
    amount    INTEGER NOT NULL,
    note      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX goal_entries_goal ON goal_entries(goal_id, at, user_id, amount);

-- In-app notifications; (goal, person, kind, mark) fires once: a milestone's
-- percent, the day of a daily summary.
CREATE TABLE goal_notices (
    id        INTEGER PRIMARY KEY,
    org_id    INTEGER NOT NULL REFERENCES organizations(id),
    user_id   INTEGER NOT NULL REFERENCES users(id),
    goal_id   INTEGER NOT NULL REFERENCES goals(id),
    kind      TEXT    NOT NULL CHECK (kind IN ('milestone', 'risk', 'deadline', 'daily', 'closed')),
    mark      INTEGER NOT NULL,
    figure    INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    read_at   INTEGER,
    UNIQUE (goal_id, user_id, kind, mark)
);
CREATE INDEX goal_notices_user ON goal_notices(user_id, id);

-- Deals created in a period, with what goal filters ask of them.
CREATE INDEX deals_org_created ON deals(org_id, created_at, responsible_id, pipeline_id, stage_id, source, amount);
