-- ReproGrid schema, version 2: stored preprint scores with their history, community feedback with
-- votes and moderation, and the aggregates that keep the funders' queries and feedback summaries fast.

-- A preprint's publication date (optional metadata), and the flag that asks the score maintainer to
-- recompute its score. Triggers below set the flag, so the lease and result paths stay unchanged.
ALTER TABLE preprints
    ADD COLUMN published_on date,
    ADD COLUMN score_dirty boolean NOT NULL DEFAULT false;
CREATE INDEX preprints_score_dirty ON preprints (id) WHERE score_dirty;

-- One row per preprint: the current score plus the preprint's metadata copied in (by trigger), so the
-- funders' query reads one table and its keyset indexes. funder_keys, grant_keys and
-- institution_keys are lower-cased for case-insensitive filters.
CREATE TABLE preprint_scores (
    preprint_id          text PRIMARY KEY REFERENCES preprints(id) ON DELETE CASCADE,
    title                text NOT NULL,
    institutions         text[] NOT NULL,
    field                text,
    funding              jsonb NOT NULL,
    published_on         date,
    funder_keys          text[] NOT NULL,
    grant_keys           text[] NOT NULL,
    institution_keys     text[] NOT NULL,
    score                double precision CHECK (score BETWEEN 0 AND 100),
    reproduced           int NOT NULL DEFAULT 0,
    decided              int NOT NULL DEFAULT 0,
    inconclusive         int NOT NULL DEFAULT 0,
    insufficient_runs    int NOT NULL DEFAULT 0,
    runs                 int NOT NULL DEFAULT 0,
    badge                text CHECK (badge IN ('reproduced')),
    -- At least one completed study: what anonymous callers may see when public read is enabled.
    has_completed_study  boolean NOT NULL DEFAULT false,
    computed_at          timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination walks these in either direction; unscored rows sort as -1.
CREATE INDEX preprint_scores_by_score ON preprint_scores ((coalesce(score, -1)), preprint_id);
CREATE INDEX preprint_scores_by_runs ON preprint_scores (runs, preprint_id);
CREATE INDEX preprint_scores_by_date ON preprint_scores (updated_at, preprint_id);
CREATE INDEX preprint_scores_funders ON preprint_scores USING gin (funder_keys);
CREATE INDEX preprint_scores_grants ON preprint_scores USING gin (grant_keys);
CREATE INDEX preprint_scores_institutions ON preprint_scores USING gin (institution_keys);
CREATE INDEX preprint_scores_field ON preprint_scores (lower(field));

-- Append-only: one row each time a preprint's score (or its counts) changed.
CREATE TABLE preprint_score_history (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    preprint_id        text NOT NULL REFERENCES preprints(id) ON DELETE CASCADE,
    score              double precision,
    reproduced         int NOT NULL,
    decided            int NOT NULL,
    inconclusive       int NOT NULL,
    insufficient_runs  int NOT NULL,
    runs               int NOT NULL,
    badge              text,
    computed_at        timestamptz NOT NULL
);
CREATE INDEX preprint_score_history_preprint ON preprint_score_history (preprint_id, id);

-- Keeps the copied metadata of preprint_scores in step with preprints.
CREATE FUNCTION preprint_scores_sync_metadata() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO preprint_scores AS s (preprint_id, title, institutions, field, funding, published_on,
                                      funder_keys, grant_keys, institution_keys, updated_at)
    VALUES (NEW.id, NEW.title, NEW.institutions, NEW.field, NEW.funding, NEW.published_on,
            ARRAY(SELECT DISTINCT lower(f->>'funder') FROM jsonb_array_elements(NEW.funding) f WHERE f ? 'funder'),
            ARRAY(SELECT DISTINCT lower(f->>'grant') FROM jsonb_array_elements(NEW.funding) f
                  WHERE f->>'grant' IS NOT NULL),
            ARRAY(SELECT DISTINCT lower(i) FROM unnest(NEW.institutions) i),
            now())
    ON CONFLICT (preprint_id) DO UPDATE SET
        title = EXCLUDED.title, institutions = EXCLUDED.institutions, field = EXCLUDED.field,
        funding = EXCLUDED.funding, published_on = EXCLUDED.published_on, funder_keys = EXCLUDED.funder_keys,
        grant_keys = EXCLUDED.grant_keys, institution_keys = EXCLUDED.institution_keys, updated_at = now()
    WHERE (s.title, s.institutions, s.field, s.funding, s.published_on)
          IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.institutions, EXCLUDED.field, EXCLUDED.funding,
                            EXCLUDED.published_on);
    RETURN NULL;
END $$;
CREATE TRIGGER preprints_sync_scores AFTER INSERT OR UPDATE OF title, institutions, field, funding, published_on
    ON preprints FOR EACH ROW EXECUTE FUNCTION preprint_scores_sync_metadata();

-- Marks a preprint for recomputation. The UPDATE is unconditional on purpose: it holds the preprint's
-- row lock until the marking transaction commits, so the maintainer (FOR UPDATE SKIP LOCKED) cannot
-- claim the preprint and compute before the change it must see is visible.
CREATE FUNCTION preprint_mark_score_dirty(preprint text) RETURNS void LANGUAGE sql AS $$
    UPDATE preprints SET score_dirty = true WHERE id = preprint;
$$;

CREATE FUNCTION studies_mark_score_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR (NEW.state IN ('completed', 'cancelled') AND NEW.state IS DISTINCT FROM OLD.state) THEN
        PERFORM preprint_mark_score_dirty(NEW.preprint_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER studies_score_dirty AFTER INSERT OR UPDATE OF state ON studies
    FOR EACH ROW EXECUTE FUNCTION studies_mark_score_dirty();

CREATE FUNCTION runs_mark_score_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'INSERT' AND NEW.accepted) OR (TG_OP = 'UPDATE' AND NEW.accepted IS DISTINCT FROM OLD.accepted) THEN
        PERFORM preprint_mark_score_dirty((SELECT preprint_id FROM studies WHERE id = NEW.study_id));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER runs_score_dirty AFTER INSERT OR UPDATE OF accepted ON runs
    FOR EACH ROW EXECUTE FUNCTION runs_mark_score_dirty();

-- Existing preprints get their row and a first computation.
INSERT INTO preprint_scores (preprint_id, title, institutions, field, funding, funder_keys, grant_keys, institution_keys)
SELECT p.id, p.title, p.institutions, p.field, p.funding,
       ARRAY(SELECT DISTINCT lower(f->>'funder') FROM jsonb_array_elements(p.funding) f WHERE f ? 'funder'),
       ARRAY(SELECT DISTINCT lower(f->>'grant') FROM jsonb_array_elements(p.funding) f WHERE f->>'grant' IS NOT NULL),
       ARRAY(SELECT DISTINCT lower(i) FROM unnest(p.institutions) i)
FROM preprints p;
UPDATE preprints SET score_dirty = true WHERE EXISTS (SELECT 1 FROM studies s WHERE s.preprint_id = preprints.id);

-- Community feedback. One row per (account, preprint) version: posting again marks the previous row
-- not current (replaced_at) and inserts a new one, so the history stays in this table.
CREATE TABLE feedback (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    preprint_id    text NOT NULL REFERENCES preprints(id) ON DELETE CASCADE,
    account_id     uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    study_id       uuid REFERENCES studies(id) ON DELETE SET NULL,
    verdict        text NOT NULL CHECK (verdict IN ('reproduced', 'partially', 'not_reproduced', 'comment')),
    rating         int CHECK (rating BETWEEN 1 AND 5),
    tags           text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 10),
    body           text NOT NULL DEFAULT '' CHECK (length(body) <= 5000),
    helpful        int NOT NULL DEFAULT 0,
    unhelpful      int NOT NULL DEFAULT 0,
    -- Wilson 95 % lower bound of helpful / (helpful + unhelpful), set on each vote; null without votes.
    helpful_lb     double precision,
    created_at     timestamptz NOT NULL DEFAULT now(),
    replaced_at    timestamptz,
    hidden_at      timestamptz,
    hidden_by      uuid REFERENCES accounts(id),
    hidden_reason  text
);
CREATE UNIQUE INDEX feedback_one_current ON feedback (preprint_id, account_id) WHERE replaced_at IS NULL;
-- The public list: newest first, keyset on (created_at, id).
CREATE INDEX feedback_visible ON feedback (preprint_id, created_at DESC, id DESC)
    WHERE replaced_at IS NULL AND hidden_at IS NULL;
CREATE INDEX feedback_account ON feedback (account_id, preprint_id, created_at);
-- Highlights: the best-voted visible items of a preprint, in the order of FeedbackStatistics.
CREATE INDEX feedback_highlights ON feedback (preprint_id, helpful_lb DESC, helpful DESC, id)
    WHERE replaced_at IS NULL AND hidden_at IS NULL AND helpful_lb IS NOT NULL;

CREATE TABLE feedback_votes (
    feedback_id  uuid NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    account_id   uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    helpful      boolean NOT NULL,
    voted_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (feedback_id, account_id)
);

-- Aggregates over visible current feedback, maintained by the feedback repository in the same
-- transaction as each change, so summaries and the funders' table never scan all items.
CREATE TABLE preprint_feedback_stats (
    preprint_id     text PRIMARY KEY REFERENCES preprints(id) ON DELETE CASCADE,
    items           int NOT NULL DEFAULT 0,
    reproduced      int NOT NULL DEFAULT 0,
    partially       int NOT NULL DEFAULT 0,
    not_reproduced  int NOT NULL DEFAULT 0,
    comment         int NOT NULL DEFAULT 0,
    rating_sum      bigint NOT NULL DEFAULT 0,
    rating_count    int NOT NULL DEFAULT 0,
    -- Number of single terms (not bigrams) in the texts: the denominator of TF.
    single_terms    bigint NOT NULL DEFAULT 0
);

-- One row: totals over all visible current feedback (N of IDF, C of the Bayesian average).
CREATE TABLE feedback_totals (
    id            int PRIMARY KEY CHECK (id = 1),
    documents     bigint NOT NULL DEFAULT 0,
    rating_sum    bigint NOT NULL DEFAULT 0,
    rating_count  bigint NOT NULL DEFAULT 0
);
INSERT INTO feedback_totals (id) VALUES (1);

-- Document frequency of each term or bigram over all visible current feedback.
CREATE TABLE feedback_terms (
    term       text PRIMARY KEY,
    documents  int NOT NULL
);

-- Occurrences of each term or bigram in one preprint's visible current feedback.
CREATE TABLE feedback_preprint_terms (
    preprint_id  text NOT NULL REFERENCES preprints(id) ON DELETE CASCADE,
    term         text NOT NULL,
    occurrences  int NOT NULL,
    PRIMARY KEY (preprint_id, term)
);

-- Items carrying each tag in one preprint's visible current feedback (each tag once per item).
CREATE TABLE feedback_preprint_tags (
    preprint_id  text NOT NULL REFERENCES preprints(id) ON DELETE CASCADE,
    tag          text NOT NULL,
    items        int NOT NULL,
    PRIMARY KEY (preprint_id, tag)
);
CREATE INDEX feedback_preprint_tags_top ON feedback_preprint_tags (preprint_id, items DESC, tag);
