-- Moderation and signed tasks (issue 12, decision 0006).

-- Admins mark researchers trusted: their studies are approved at submission.
ALTER TABLE accounts ADD COLUMN trusted boolean NOT NULL DEFAULT false;

-- A study of an untrusted researcher waits in pending_review; a moderator makes it running or rejected.
ALTER TABLE studies DROP CONSTRAINT studies_state_check;
ALTER TABLE studies ADD CONSTRAINT studies_state_check
    CHECK (state IN ('pending_review', 'running', 'completed', 'cancelled', 'rejected'));

-- The job manifest is stored once per study at submission; binding_sha256 is the hash of the part an
-- approval covers, so a later study with the same binding finds the earlier moderator approval by index.
-- The signature is made at approval with the key file outside the database: someone who can write here
-- but not read that file cannot produce one. Studies stored before this version have no manifest, and
-- workers refuse their tasks (cancel and resubmit them).
ALTER TABLE studies
    ADD COLUMN manifest jsonb,
    ADD COLUMN binding_sha256 text,
    ADD COLUMN manifest_signature text,
    ADD COLUMN signing_key_id text,
    ADD COLUMN approval text CHECK (approval IN ('trusted_submitter', 'moderator', 'earlier_approval')),
    ADD COLUMN approved_by uuid REFERENCES accounts(id),
    ADD COLUMN approved_via uuid REFERENCES studies(id),
    ADD COLUMN approved_at timestamptz,
    ADD COLUMN rejection_reason text,
    ADD COLUMN rejected_at timestamptz;
CREATE INDEX studies_moderator_approved_binding ON studies (binding_sha256, approved_at) WHERE approval = 'moderator';
CREATE INDEX studies_pending_review ON studies (created_at) WHERE state = 'pending_review';

-- Tasks of a pending study are `held`: they exist (the counts and the review show them) but stay outside
-- the partial index tasks_queued that the lease walks, so holding them costs the lease path nothing.
-- Approval turns them `queued`, rejection `cancelled`.
ALTER TABLE tasks DROP CONSTRAINT tasks_state_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_state_check
    CHECK (state IN ('held', 'queued', 'leased', 'succeeded', 'failed', 'cancelled'));

-- Every moderation action, append-only: who, when, what, why. Rows are never updated or deleted (the
-- trigger refuses both), and study/account ids are plain values so the log outlives what it names.
CREATE TABLE moderation_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       uuid,
    action      text NOT NULL CHECK (action IN ('approve', 'reject', 'auto_approve', 'trust', 'untrust')),
    study_id    uuid,
    account_id  uuid,
    reason      text
);
CREATE INDEX moderation_log_study ON moderation_log (study_id);

CREATE FUNCTION moderation_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'moderation_log is append-only';
END $$;
CREATE TRIGGER moderation_log_append_only BEFORE UPDATE OR DELETE ON moderation_log
    FOR EACH ROW EXECUTE FUNCTION moderation_log_append_only();
