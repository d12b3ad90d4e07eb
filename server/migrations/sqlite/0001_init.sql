-- Voronka schema, SQLite flavour. Times are UTC milliseconds since the epoch;
-- money is integer minor units (kopecks). Keep in step with ../postgres.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    time_zone   TEXT    NOT NULL DEFAULT 'Europe/Moscow',
    currency    TEXT    NOT NULL DEFAULT 'RUB',
    created_at  INTEGER NOT NULL
);

CREATE TABLE departments (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    name        TEXT    NOT NULL,
    head_id     INTEGER,
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organizations(id),
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'head', 'manager', 'viewer')),
    department_id INTEGER REFERENCES departments(id),
    locale        TEXT    NOT NULL DEFAULT 'ru',
    theme         TEXT    NOT NULL DEFAULT 'light',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    INTEGER NOT NULL
);
CREATE INDEX users_department ON users(department_id);

-- A department's head is a user; users are created after departments, so the
-- reference is checked by the application, not a foreign key cycle.

CREATE TABLE role_permissions (
    org_id  INTEGER NOT NULL REFERENCES organizations(id),
    role    TEXT    NOT NULL,
    module  TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    scope   TEXT    NOT NULL CHECK (scope IN ('none', 'own', 'department', 'all')),
    PRIMARY KEY (org_id, role, module, action)
);

CREATE TABLE login_failures (
    key        TEXT    NOT NULL,
    failed_at  INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, failed_at);

CREATE TABLE pipelines (
    id        INTEGER PRIMARY KEY,
    org_id    INTEGER NOT NULL REFERENCES organizations(id),
    name      TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    archived  BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE stages (
    id           INTEGER PRIMARY KEY,
    pipeline_id  INTEGER NOT NULL REFERENCES pipelines(id),
    name         TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    probability  INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
    required     BOOLEAN NOT NULL DEFAULT FALSE,
    stale_days   INTEGER NOT NULL DEFAULT 0,
    archived     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX stages_pipeline ON stages(pipeline_id, position);

CREATE TABLE clients (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    name            TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('company', 'person')),
    phone           TEXT    NOT NULL DEFAULT '',
    email           TEXT    NOT NULL DEFAULT '',
    responsible_id  INTEGER REFERENCES users(id),
    created_at      INTEGER NOT NULL
);

CREATE TABLE leads (
    id                 INTEGER PRIMARY KEY,
    org_id             INTEGER NOT NULL REFERENCES organizations(id),
    title              TEXT    NOT NULL,
    source             TEXT    NOT NULL,
    contact_name       TEXT    NOT NULL DEFAULT '',
    phone              TEXT    NOT NULL DEFAULT '',
    email              TEXT    NOT NULL DEFAULT '',
    status             TEXT    NOT NULL CHECK (status IN ('new', 'in_work', 'qualified', 'disqualified')),
    disqualify_reason  TEXT,
    responsible_id     INTEGER REFERENCES users(id),
    client_id          INTEGER REFERENCES clients(id),
    created_at         INTEGER NOT NULL,
    first_response_at  INTEGER,
    CHECK (status <> 'disqualified' OR disqualify_reason IS NOT NULL)
);
CREATE INDEX leads_org_created ON leads(org_id, created_at);
CREATE INDEX leads_responsible ON leads(responsible_id, created_at);

CREATE TABLE deals (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES organizations(id),
    pipeline_id       INTEGER NOT NULL REFERENCES pipelines(id),
    stage_id          INTEGER NOT NULL REFERENCES stages(id),
    title             TEXT    NOT NULL,
    amount            INTEGER NOT NULL CHECK (amount >= 0),
    currency          TEXT    NOT NULL DEFAULT 'RUB',
    client_id         INTEGER REFERENCES clients(id),
    lead_id           INTEGER REFERENCES leads(id),
    source            TEXT    NOT NULL,
    responsible_id    INTEGER NOT NULL REFERENCES users(id),
    created_at        INTEGER NOT NULL,
    stage_entered_at  INTEGER NOT NULL,
    closed_at         INTEGER,
    loss_reason       TEXT,
    version           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deals_board ON deals(pipeline_id, stage_id);
CREATE INDEX deals_responsible ON deals(responsible_id, created_at);

-- Append-only: every stage change of a deal, with the amount at that moment.
CREATE TABLE deal_events (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES organizations(id),
    deal_id           INTEGER NOT NULL REFERENCES deals(id),
    actor_id          INTEGER NOT NULL REFERENCES users(id),
    at                INTEGER NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('created', 'stage', 'responsible')),
    from_stage_id     INTEGER REFERENCES stages(id),
    to_stage_id       INTEGER REFERENCES stages(id),
    from_user_id      INTEGER REFERENCES users(id),
    to_user_id        INTEGER REFERENCES users(id),
    amount            INTEGER NOT NULL,
    skipped_required  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX deal_events_deal ON deal_events(deal_id, id);
CREATE INDEX deal_events_org_at ON deal_events(org_id, at);

CREATE TABLE activities (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('call_in', 'call_out', 'meeting', 'proposal', 'chat', 'note')),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    deal_id     INTEGER REFERENCES deals(id),
    lead_id     INTEGER REFERENCES leads(id),
    client_id   INTEGER REFERENCES clients(id),
    at          INTEGER NOT NULL,
    duration_s  INTEGER,
    note        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX activities_user_at ON activities(user_id, at);
CREATE INDEX activities_org_at ON activities(org_id, at);
