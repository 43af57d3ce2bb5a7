-- Adaptive studies (issue 15, part 2; decision 0015): `matrix.seeds: {adaptive: {min, max, step}}` runs `min`
-- seeds per dataset, looks at a dataset's claims each time its tasks have all ended, and adds the next `step`
-- seeds while a claim is undecided, up to `max`. Everything a look needs survives a restart: the plan, each
-- look taken, and the flag asking for the next one.

-- 1. The plan of a study, copied out of its spec so progress and the maintainer read it without parsing the
-- spec. `datasets` in the spec's order; `max_task_count` is what the study would have at `max` seeds.
CREATE TABLE adaptive_plans (
    study_id        uuid PRIMARY KEY REFERENCES studies(id),
    min_seeds       int NOT NULL CHECK (min_seeds >= 2),
    max_seeds       int NOT NULL CHECK (max_seeds >= min_seeds),
    step            int NOT NULL CHECK (step >= 1),
    datasets        text[] NOT NULL CHECK (cardinality(datasets) > 0),
    max_task_count  int NOT NULL CHECK (max_task_count > 0)
);

-- 2. One row per look at one dataset, taken when all tasks of its first `seeds` seeds had ended. next_seeds:
-- the seeds it has after the step this look added; NULL when the look stopped the dataset, with the reason.
-- The primary key makes a look, and with it its step, happen once: a second pass, a retry or another
-- coordinator inserts nothing (ON CONFLICT DO NOTHING) and so adds no task.
CREATE TABLE adaptive_looks (
    study_id     uuid NOT NULL REFERENCES adaptive_plans(study_id),
    dataset      text NOT NULL,
    seeds        int NOT NULL CHECK (seeds >= 1),
    next_seeds   int CHECK (next_seeds > seeds),
    stop_reason  text CHECK (stop_reason IN ('decided', 'reached_maximum', 'no_new_runs', 'no_claims')),
    looked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (study_id, dataset, seeds),
    CHECK ((next_seeds IS NULL) = (stop_reason IS NOT NULL))
);

-- 3. On the study row, beside open_tasks, so the statements that close tasks read and write them in the row
-- update they already make:
--    adaptive_growing  datasets still growing. A study is completed when its open tasks reach 0 *and* none
--                      grows; while one grows, the maintainer completes it after the look that stops the last.
--    adaptive_pending  set when a task of a growing study ends: the maintainer looks for datasets whose tasks
--                      have all ended. Cleared by the maintainer's pass in the same transaction as its looks.
ALTER TABLE studies
    ADD COLUMN adaptive_growing int NOT NULL DEFAULT 0 CHECK (adaptive_growing >= 0),
    ADD COLUMN adaptive_pending boolean NOT NULL DEFAULT false,
    -- A writer that forgot the rule fails loudly rather than completing a study that still grows.
    ADD CONSTRAINT studies_adaptive_complete CHECK (state <> 'completed' OR adaptive_growing = 0);
CREATE INDEX studies_adaptive_pending ON studies (id) WHERE adaptive_pending;
