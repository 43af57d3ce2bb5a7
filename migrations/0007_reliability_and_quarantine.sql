-- Results checked against each other (issue 12): spot-checked seed groups, per-worker reliability and
-- quarantine. Decision 0008 says why each part is as it is.

-- 1. Spot checks (`verification: {replicate_fraction: f}`): the extra replica of a checked seed group must go
-- to a worker of another volunteer account, not only another worker. Filled at expansion like `network`;
-- a constant default keeps this a catalogue change, and every existing task is rightly false.
ALTER TABLE tasks ADD COLUMN distinct_accounts boolean NOT NULL DEFAULT false;

-- 2. A run excluded from reports and scores is kept, with accepted = false and the reason here
-- ('quarantine' while its worker or account is quarantined; 'superseded' when the quarantine was lifted after
-- another worker had already redone the task). NULL: never excluded.
ALTER TABLE runs ADD COLUMN excluded text CHECK (excluded IN ('quarantine', 'superseded'));
CREATE INDEX runs_excluded_worker ON runs (worker_id) WHERE excluded IS NOT NULL;

-- 3. Quarantines: of one worker, or of a whole volunteer account (all its workers, present and future).
-- created_by NULL: the automatic rule. A quarantine is active until released_at is set; at most one active
-- quarantine per worker and per account.
CREATE TABLE quarantines (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id     uuid REFERENCES workers(id) ON DELETE CASCADE,
    account_id    uuid REFERENCES accounts(id) ON DELETE CASCADE,
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    created_by    uuid REFERENCES accounts(id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    released_at   timestamptz,
    released_by   uuid REFERENCES accounts(id),
    CHECK ((worker_id IS NULL) <> (account_id IS NULL))
);
CREATE UNIQUE INDEX quarantines_active_worker ON quarantines (worker_id) WHERE released_at IS NULL AND worker_id IS NOT NULL;
CREATE UNIQUE INDEX quarantines_active_account ON quarantines (account_id) WHERE released_at IS NULL AND account_id IS NOT NULL;

-- 4. Every quarantine action, append-only (to be merged into the audit log of migration 0006 later).
CREATE TABLE quarantine_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quarantine_id   bigint NOT NULL REFERENCES quarantines(id),
    action          text NOT NULL CHECK (action IN ('quarantine', 'release')),
    worker_id       uuid,
    account_id      uuid,
    actor           uuid REFERENCES accounts(id),
    reason          text NOT NULL,
    runs_excluded   int NOT NULL DEFAULT 0,
    runs_restored   int NOT NULL DEFAULT 0,
    tasks_requeued  int NOT NULL DEFAULT 0,
    at              timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION quarantine_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'quarantine_events is append-only';
END $$;
CREATE TRIGGER quarantine_events_append_only BEFORE UPDATE OR DELETE ON quarantine_events
    FOR EACH ROW EXECUTE FUNCTION quarantine_events_append_only();

-- 5. Reliability: one row per replica run checked against its seed group (so a run is never counted twice,
-- whatever re-evaluates it), and the counters per worker. Evaluated by a background pass when a study
-- completes (studies.reliability_pending, set by the trigger below).
CREATE TABLE reliability_checks (
    run_id      bigint PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    worker_id   uuid NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
    study_id    uuid NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    seed_group  int NOT NULL,
    agrees      boolean NOT NULL,
    detail      text NOT NULL,
    checked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reliability_checks_worker ON reliability_checks (worker_id, run_id);

CREATE TABLE worker_reliability (
    worker_id             uuid PRIMARY KEY REFERENCES workers(id) ON DELETE CASCADE,
    agreeing              bigint NOT NULL DEFAULT 0,
    disagreeing           bigint NOT NULL DEFAULT 0,
    consecutive_agreeing  bigint NOT NULL DEFAULT 0,
    last_checked_at       timestamptz
);

ALTER TABLE studies ADD COLUMN reliability_pending boolean NOT NULL DEFAULT false;
CREATE INDEX studies_reliability_pending ON studies (id) WHERE reliability_pending;

-- Set in the same row update that completes the study (a BEFORE trigger, so no second row version).
CREATE FUNCTION studies_mark_reliability_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'completed' AND OLD.state IS DISTINCT FROM 'completed' THEN
        NEW.reliability_pending := true;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER studies_reliability_pending BEFORE UPDATE OF state ON studies
    FOR EACH ROW EXECUTE FUNCTION studies_mark_reliability_pending();

-- Studies completed before this migration are evaluated once too.
UPDATE studies SET reliability_pending = true WHERE state = 'completed';
