-- Issue 11: key management and preprint ownership.

-- Keys may expire; rotation sets the old key's expiry to the end of its grace period and links the
-- new key. last_used_at is refreshed at most once a minute per key (on lookup and on the auth cache's
-- confirmation), so listing keys shows roughly when each was last used without a write per request.
ALTER TABLE api_keys
    ADD COLUMN label        text CHECK (length(label) BETWEEN 1 AND 100),
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN revoked_by   uuid REFERENCES accounts(id) ON DELETE SET NULL,
    ADD COLUMN replaced_by  uuid REFERENCES api_keys(id) ON DELETE SET NULL;
CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

-- The account that owns a preprint's metadata: the first to describe it (first study submitter or
-- first PUT). Only it, moderators and admins change the metadata afterwards; a study of another
-- account leaves it as stored and gets a warning. Existing preprints go to their earliest study's owner.
ALTER TABLE preprints ADD COLUMN owner_account_id uuid REFERENCES accounts(id) ON DELETE SET NULL;
UPDATE preprints p SET owner_account_id = (
    SELECT s.owner_account_id FROM studies s WHERE s.preprint_id = p.id ORDER BY s.created_at, s.id LIMIT 1);

-- Every change of a preprint's metadata, with who made it and how (append-only).
CREATE TABLE preprint_changes (
    id           bigserial PRIMARY KEY,
    preprint_id  text NOT NULL REFERENCES preprints(id) ON DELETE CASCADE,
    actor        uuid REFERENCES accounts(id) ON DELETE SET NULL,
    source       text NOT NULL CHECK (source IN ('put', 'study')),
    -- Deferred: a study writes its preprint before its own row exists (same transaction).
    study_id     uuid REFERENCES studies(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    -- null for the change that created the preprint.
    before       jsonb,
    after        jsonb NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX preprint_changes_preprint ON preprint_changes (preprint_id, id);
