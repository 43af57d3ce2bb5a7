-- A result transaction no longer writes a row that every other result of the same study writes too
-- (issue 16; decision 0017).
--
-- Sampling pg_stat_activity during `repro-bench lease --cycle` (8 workers, batch 10, one study) found 397 of
-- about 500 samples of the backends waiting for the lock of one row: the study's, which every result
-- transaction updated (`open_tasks`) and held until its commit had been flushed. The preprint's row (the
-- score flag) was next in line. Result transactions of one study ran one at a time, fsync included.

-- 1. Tasks that reached an end state are counted in rows of their own, folded into studies.open_tasks
--    later. A result transaction appends one row per study it closed tasks of and takes no lock that another
--    result transaction takes. The fold runs right after the transaction when few open tasks remain, and in
--    every reaper pass for the rest; it is the only place that completes a study whose tasks ended through
--    results. studies.open_tasks minus the study's pending closures is the number of open tasks.
CREATE TABLE study_closures (
    study_id uuid NOT NULL,
    closed   int NOT NULL CHECK (closed > 0)
);
CREATE INDEX study_closures_study ON study_closures (study_id);

-- Folds a study's pending closures into its row: completes it when no open task is left (and no dataset
-- still grows; an adaptive study that grows is marked for a look instead, as TaskQueue.closeTasks did). The
-- DELETE takes exactly the closures committed when it starts; one that commits later stays for the next
-- fold. Returns the study's open tasks after the fold (NULL when it has no row or is not running). Never
-- below 0 (the constraint on open_tasks): the reaper folds in every pass, and a fold that failed would stop it.
CREATE FUNCTION study_fold_closures(study uuid) RETURNS int LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM study_closures WHERE study_id = study RETURNING closed
    ), total AS (
        SELECT coalesce(sum(closed), 0)::int AS n FROM gone
    ), folded AS (
        UPDATE studies s
        SET open_tasks = greatest(s.open_tasks - t.n, 0),
            state = CASE WHEN s.open_tasks - t.n <= 0 AND s.adaptive_growing = 0 THEN 'completed' ELSE s.state END,
            completed_at = CASE WHEN s.open_tasks - t.n <= 0 AND s.adaptive_growing = 0 THEN now()
                                ELSE s.completed_at END,
            adaptive_pending = s.adaptive_pending OR s.adaptive_growing > 0
        FROM total t
        WHERE s.id = study AND s.state = 'running' AND t.n > 0
        RETURNING s.open_tasks
    )
    SELECT open_tasks FROM folded
$$;

-- 2. Accepted runs mark the preprint's score stale without a row lock per result transaction. Each takes a
--    shared advisory lock on the preprint ("RGSC", 0x52475343) before it looks at the flag, and sets the flag
--    only when it is not set already; the score maintainer's claim takes the same lock exclusively before it
--    clears the flag (ScoreRepository.claimDirty), so every result transaction that saw the flag set (and
--    skipped setting it) has committed by then, and the recomputation that follows sees their runs. One that
--    looks after the claim waits for its commit, sees the flag cleared and sets it again.
CREATE OR REPLACE FUNCTION runs_inserted_mark_score_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1380406083, hashtext(p.id))
    FROM (SELECT DISTINCT s.preprint_id AS id FROM inserted i JOIN studies s ON s.id = i.study_id
          WHERE i.accepted ORDER BY 1) p;
    UPDATE preprints SET score_dirty = true
    WHERE NOT score_dirty
      AND id IN (SELECT s.preprint_id FROM inserted i JOIN studies s ON s.id = i.study_id WHERE i.accepted);
    RETURN NULL;
END $$;

-- 3. Row-level foreign keys that the write paths already guarantee. Each fired a trigger per row and took
--    a FOR KEY SHARE lock on the referenced row: on the study's and the worker's rows from every result
--    transaction (multixacts on the study's row from concurrent ones), and on the worker's row for every
--    task leased. Nothing deletes workers, tasks or runs (refused below), so a reference, once valid, stays
--    valid; and every statement that writes one takes it from a row it has just read or locked:
--    - tasks.worker_id: the lease and resend statements set it to the authenticated worker's id;
--    - runs.task_id, runs.study_id: the result batch inserts runs only for task rows it locked (FOR UPDATE)
--      in the same transaction, with the study id read from that row;
--    - runs.worker_id: the authenticated worker;
--    - run_metrics.run_id, run_params.run_id: joined to the runs the same statement or transaction inserted.
--    ForeignKeyInvariantTests checks the references after concurrent work, and the refusals below.
ALTER TABLE tasks DROP CONSTRAINT tasks_worker_id_fkey;
ALTER TABLE runs DROP CONSTRAINT runs_task_id_fkey;
ALTER TABLE runs DROP CONSTRAINT runs_study_id_fkey;
ALTER TABLE runs DROP CONSTRAINT runs_worker_id_fkey;
ALTER TABLE run_metrics DROP CONSTRAINT run_metrics_run_id_fkey;
ALTER TABLE run_params DROP CONSTRAINT run_params_run_id_fkey;

CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted: other rows refer to them without a foreign key (decision 0017)',
        TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
END $$;
CREATE TRIGGER workers_refuse_delete BEFORE DELETE ON workers FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER tasks_refuse_delete BEFORE DELETE ON tasks FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER runs_refuse_delete BEFORE DELETE ON runs FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER workers_refuse_truncate BEFORE TRUNCATE ON workers FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER tasks_refuse_truncate BEFORE TRUNCATE ON tasks FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER runs_refuse_truncate BEFORE TRUNCATE ON runs FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
