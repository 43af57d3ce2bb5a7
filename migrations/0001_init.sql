-- ReproGrid schema, version 1: accounts and keys, preprints, studies, tasks, runs.
-- Applied once by the coordinator's migration runner (advisory lock, checksum recorded).

CREATE TABLE accounts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    roles       text[] NOT NULL
                CHECK (roles <@ ARRAY['admin','researcher','volunteer','worker','funder','moderator','community']
                       AND cardinality(roles) > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Secrets are never stored: only their SHA-256. The prefix helps people tell keys apart.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    prefix      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE workers (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id        uuid NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
    owner_account_id  uuid NOT NULL REFERENCES accounts(id),
    name              text NOT NULL,
    slots             int NOT NULL CHECK (slots BETWEEN 1 AND 256),
    cpus              int NOT NULL CHECK (cpus >= 0),
    memory_bytes      bigint NOT NULL CHECK (memory_bytes >= 0),
    gpus              int NOT NULL CHECK (gpus >= 0),
    hardware_class    text,
    registered_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now()
);

-- Code bundles, content-addressed: the key is the sha256 of the bytes.
CREATE TABLE bundles (
    sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size         bigint NOT NULL,
    content      bytea NOT NULL,
    uploaded_by  uuid REFERENCES accounts(id),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- id is the normalized identifier (arXiv id without version, or lower-cased DOI).
CREATE TABLE preprints (
    id            text PRIMARY KEY,
    title         text NOT NULL,
    authors       text[] NOT NULL DEFAULT '{}',
    institutions  text[] NOT NULL DEFAULT '{}',
    field         text,
    funding       jsonb NOT NULL DEFAULT '[]',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A study is immutable once submitted. open_tasks counts tasks not yet in an end state; the
-- statement that takes it to 0 also marks the study completed, so completion happens once
-- even when the last two results commit concurrently (the UPDATE takes the row lock).
CREATE TABLE studies (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    preprint_id        text NOT NULL REFERENCES preprints(id),
    owner_account_id   uuid NOT NULL REFERENCES accounts(id),
    spec               jsonb NOT NULL,
    spec_sha256        text NOT NULL,
    job                jsonb NOT NULL,
    state              text NOT NULL DEFAULT 'running' CHECK (state IN ('running','completed','cancelled')),
    task_count         int NOT NULL CHECK (task_count > 0),
    open_tasks         int NOT NULL CHECK (open_tasks >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    completed_at       timestamptz,
    cancelled_at       timestamptz
);
CREATE INDEX studies_preprint ON studies (preprint_id);

-- One row per (dataset, configuration, seed, replica). Replicas of one seed share seed_group.
-- lease_id is kept after a lease expires so the worker that held it can still deliver its
-- result while the task has not been leased again.
CREATE TABLE tasks (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study_id          uuid NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    seed_group        int NOT NULL,
    dataset           text NOT NULL,
    seed              bigint NOT NULL,
    configuration     text,
    replica           int NOT NULL,
    arguments         jsonb NOT NULL,
    gpus              int NOT NULL DEFAULT 0,
    memory_bytes      bigint NOT NULL DEFAULT 0,
    state             text NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued','leased','succeeded','failed','cancelled')),
    attempts          int NOT NULL DEFAULT 0,
    max_attempts      int NOT NULL CHECK (max_attempts > 0),
    not_before        timestamptz NOT NULL DEFAULT now(),
    lease_id          uuid,
    worker_id         uuid REFERENCES workers(id),
    lease_expires_at  timestamptz,
    progress          text,
    last_error        text,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (study_id, seed_group, replica)
);
-- The lease scan walks queued tasks in id order; the reaper finds expired leases.
CREATE INDEX tasks_queued ON tasks (id) WHERE state = 'queued';
CREATE INDEX tasks_lease_expiry ON tasks (lease_expires_at) WHERE state = 'leased';
CREATE INDEX tasks_study_state ON tasks (study_id, state);
CREATE INDEX tasks_group_worker ON tasks (study_id, seed_group, worker_id);

-- One row per attempt that reported. At most one accepted run per task (partial unique index);
-- one run per lease, which makes a repeated submission idempotent.
CREATE TABLE runs (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id           bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    study_id          uuid NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    lease_id          uuid NOT NULL UNIQUE,
    worker_id         uuid NOT NULL REFERENCES workers(id),
    attempt           int NOT NULL,
    outcome           text NOT NULL CHECK (outcome IN ('succeeded','failed','timed_out','interrupted','cancelled')),
    accepted          boolean NOT NULL DEFAULT false,
    exit_code         int,
    duration_seconds  double precision NOT NULL,
    error             text,
    log_tail          text,
    fingerprint       jsonb,
    hardware_class    text,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX runs_one_accepted_per_task ON runs (task_id) WHERE accepted;
CREATE INDEX runs_study ON runs (study_id);

-- Metrics as rows so SQL can aggregate; NaN and infinities never stored.
CREATE TABLE run_metrics (
    run_id  bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name    text NOT NULL,
    value   double precision NOT NULL
            CHECK (value <> 'NaN'::float8 AND value <> 'Infinity'::float8 AND value <> '-Infinity'::float8),
    PRIMARY KEY (run_id, name)
);
