-- Accepted runs mark their preprint's score stale by appending a row, not by writing the preprint's row
-- (issue 16; decision 0018).
--
-- After migration 0014 a result transaction set preprints.score_dirty only when it was clear, under a shared
-- advisory lock that the score maintainer's claim took exclusively. pg_stat_statements and pg_stat_activity
-- sampling during `repro-bench lease --cycle` (8 workers, batch 10, durable cluster) still found about half of
-- the busy backends waiting in the result statement: for the advisory lock (every result queued behind the
-- claim's exclusive request, once a second) and for the preprint's row (right after each claim, every
-- result transaction found the flag clear and updated it, one at a time, each holding it until its commit
-- was flushed).

-- One row per preprint per result statement that inserted accepted runs. No index and no foreign key:
-- neither an insert nor its commit waits for anything another transaction holds. The claim deletes the
-- rows it can see (ScoreRepository.claimDirty); a row committed after the claim's snapshot stays for the
-- next pass, and the recomputation, which starts after the claim committed, sees every run whose mark the
-- claim deleted.
CREATE TABLE score_marks (
    preprint_id text NOT NULL,
    marked_at   timestamptz NOT NULL DEFAULT now()
) WITH (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0
);

CREATE OR REPLACE FUNCTION runs_inserted_mark_score_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO score_marks (preprint_id)
    SELECT DISTINCT s.preprint_id FROM inserted i JOIN studies s ON s.id = i.study_id WHERE i.accepted;
    RETURN NULL;
END $$;

-- Every preprint whose stored score waits for a recomputation, and since when: the flag (a study completed
-- or was cancelled, a run's acceptance changed, a failed recomputation) and the marks of new runs. One
-- preprint may appear more than once.
CREATE VIEW stale_scores AS
    SELECT id AS preprint_id, score_dirty_since AS since FROM preprints WHERE score_dirty
    UNION ALL
    SELECT preprint_id, marked_at FROM score_marks;
