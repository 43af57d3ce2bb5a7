-- Issue 14. Parameters a job logged with MLflow (mlflow.log_param), kept with the run they belong
-- to and shown in the report's runs table; a resent result inserts nothing twice (primary key).
CREATE TABLE run_params (
    run_id  bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name    text NOT NULL,
    value   text NOT NULL,
    PRIMARY KEY (run_id, name)
);

-- Since when a preprint's score has been waiting for recomputation: the score lag metric
-- (reprogrid_score_lag_seconds) reads the oldest. Kept by a trigger so every place that marks a
-- preprint dirty (functions, triggers, the maintainer) sets it without knowing.
ALTER TABLE preprints ADD COLUMN score_dirty_since timestamptz;
UPDATE preprints SET score_dirty_since = now() WHERE score_dirty;

CREATE FUNCTION preprints_score_dirty_since() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.score_dirty AND NOT OLD.score_dirty THEN
        NEW.score_dirty_since := now();
    ELSIF NOT NEW.score_dirty THEN
        NEW.score_dirty_since := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER preprints_score_dirty_since BEFORE UPDATE OF score_dirty ON preprints
    FOR EACH ROW EXECUTE FUNCTION preprints_score_dirty_since();

CREATE FUNCTION preprints_score_dirty_since_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.score_dirty THEN NEW.score_dirty_since := now(); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER preprints_score_dirty_since_insert BEFORE INSERT ON preprints
    FOR EACH ROW EXECUTE FUNCTION preprints_score_dirty_since_insert();
