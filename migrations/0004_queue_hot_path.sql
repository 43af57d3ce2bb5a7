-- The lease and result statements, found by the lease benchmark (BENCHMARKS.md).

-- 1. The lease keeps replicas of one seed on distinct workers with a NOT EXISTS probe per candidate. As
-- a plain NOT EXISTS the planner turned it into an anti-join over a sequential scan of every task the
-- worker ever held (estimated at one row), so each lease read the whole table and slowed down as the
-- worker's history grew. Storing the group's size lets the lease skip the probe for single-replica
-- groups (the common case) and, written as `group_size = 1 OR NOT EXISTS (...)`, makes the probe a
-- per-row index lookup on tasks_group_worker for the rest.
ALTER TABLE tasks ADD COLUMN group_size int NOT NULL DEFAULT 1 CHECK (group_size >= 1);

UPDATE tasks t SET group_size = g.n
FROM (SELECT study_id, seed_group, count(*)::int AS n FROM tasks GROUP BY study_id, seed_group HAVING count(*) > 1) g
WHERE t.study_id = g.study_id AND t.seed_group = g.seed_group;

-- 2. Accepted runs mark their preprint's score stale. Row by row, that was one UPDATE of the preprint
-- per run, each a new row version; a batch of results is now one INSERT, and this statement-level
-- trigger marks each preprint once per statement. It still holds the preprint's row lock until commit,
-- which is what keeps the score maintainer (FOR UPDATE SKIP LOCKED) from computing before the runs are
-- visible. Preprints are locked in id order so two batches spanning the same preprints cannot deadlock.
CREATE FUNCTION runs_inserted_mark_score_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM preprints
    WHERE id IN (SELECT s.preprint_id FROM inserted i JOIN studies s ON s.id = i.study_id WHERE i.accepted)
    ORDER BY id
    FOR UPDATE;
    UPDATE preprints SET score_dirty = true
    WHERE id IN (SELECT s.preprint_id FROM inserted i JOIN studies s ON s.id = i.study_id WHERE i.accepted);
    RETURN NULL;
END $$;

DROP TRIGGER runs_score_dirty ON runs;
CREATE TRIGGER runs_inserted_score_dirty AFTER INSERT ON runs REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION runs_inserted_mark_score_dirty();
CREATE TRIGGER runs_score_dirty AFTER UPDATE OF accepted ON runs
    FOR EACH ROW EXECUTE FUNCTION runs_mark_score_dirty();
