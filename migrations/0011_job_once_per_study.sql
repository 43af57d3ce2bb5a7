-- The job is stored once per study (issue 11, defect 9; issue 16; decision 0014).
--
-- Every task row used to carry `arguments`, the study's command with its placeholders substituted, so a
-- 422 KB command copied into 500 tasks grew the database by 220 MB. The command template already lives
-- once per study in `studies.manifest` (the signed manifest of decision 0007), and a task adds nothing but
-- dataset, seed, configuration and replica: the lease rebuilds the command from the manifest, and the
-- worker rebuilds it again from the signed copy. New tasks leave `arguments` NULL, so a task row's size no
-- longer depends on the command's length; tasks of studies stored before manifests existed keep theirs.
ALTER TABLE tasks ALTER COLUMN arguments DROP NOT NULL;

-- Expansion inserts a study's tasks with one INSERT … SELECT (TaskExpansion). Measured on 100 000 rows,
-- the row-level foreign-key check on tasks.study_id (one lookup of the study per task row) was a third of
-- that statement's time, and tasks_group_worker a sixth (BENCHMARKS.md, "Study expansion").
--
-- 1. The foreign key becomes one set-based check per statement: every study id among the inserted (or
--    rows must exist. Tasks are only ever inserted into a study inserted or locked in the same
--    transaction, and no code deletes studies; deleting a study that has tasks is refused outright.
ALTER TABLE tasks DROP CONSTRAINT tasks_study_id_fkey;

CREATE FUNCTION tasks_check_study() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing uuid;
BEGIN
    SELECT n.study_id INTO missing
    FROM (SELECT DISTINCT study_id FROM changed) n
    WHERE NOT EXISTS (SELECT 1 FROM studies s WHERE s.id = n.study_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'task rows refer to study %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tasks_inserted_check_study AFTER INSERT ON tasks REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_check_study();

-- No code moves a task to another study; refusing it keeps the check above the only way in. Fires only for
-- statements that set study_id, so the lease and result updates never run it.
CREATE FUNCTION tasks_refuse_study_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'task % cannot move to another study', OLD.id USING ERRCODE = 'foreign_key_violation';
END $$;
CREATE TRIGGER tasks_refuse_study_change BEFORE UPDATE OF study_id ON tasks
    FOR EACH ROW WHEN (OLD.study_id IS DISTINCT FROM NEW.study_id) EXECUTE FUNCTION tasks_refuse_study_change();

CREATE FUNCTION studies_refuse_delete_with_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM tasks WHERE study_id = OLD.id) THEN
        RAISE EXCEPTION 'study % has tasks and cannot be deleted', OLD.id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER studies_refuse_delete_with_tasks BEFORE DELETE ON studies
    FOR EACH ROW EXECUTE FUNCTION studies_refuse_delete_with_tasks();

-- 2. tasks_group_worker served only the lease's replica probe (`s.study_id = t.study_id AND s.seed_group =
--    t.seed_group AND s.worker_id = …`). The unique index on (study_id, seed_group, replica) finds the
--    group's few rows just as well, and the worker is checked on them. Every task insert, and every
--    non-HOT update of a task (lease, result, heartbeat), had to maintain it.
DROP INDEX tasks_group_worker;
