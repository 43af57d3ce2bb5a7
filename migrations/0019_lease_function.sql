-- Issue 16: the lease statement as a function that PostgreSQL plans once per connection.
--
-- The statement was planned on every call: its custom plan knows the batch size ($5) and the worker's
-- resources, and the generic plan, estimated without them, always looked dearer (LIMIT $5 is costed as a
-- tenth of the queue), so the plan cache never chose it. Planning was 0.65 ms per lease at batch 50
-- (pg_stat_statements with track_planning: 1 224 plans for 1 215 calls), 15 % of the statement's time,
-- for a plan that is the same for every value a worker sends: the tasks_queued index in id order under
-- LIMIT, locking with SKIP LOCKED. Here it runs with plan_cache_mode = force_generic_plan, planned once per
-- connection and again when the tables' statistics change (pgbench, two clients, the statement in a
-- rolled-back transaction on a 60 000-task queue: 1 077-1 144 leases/s as the statement, 1 491-1 494 as this
-- function).
--
-- The statement is LeaseStatement.body in the coordinator, character for character (LeaseFunctionTests
-- compares them); the conditions it shares with the locked look and the resend stay there. One change from
-- the statement as it was: the update finds its rows by `id = ANY(ARRAY(SELECT ...))`, which the generic plan
-- turns into a primary-key index scan; joined to the candidates, the generic plan hashed the whole table.
-- $1 GPUs, $2 bytes of memory and $3 the network the worker offers, $4 the worker, $5 the most tasks, $6 the
-- lease's time to live in seconds. `use_column`: the output columns are named as the tasks' columns.
CREATE FUNCTION lease_tasks(bigint, bigint, boolean, uuid, bigint, double precision)
RETURNS TABLE (
    id bigint, lease_id uuid, study_id uuid, dataset text, seed bigint, configuration text, replica int,
    attempts int, arguments text, lease_expires_at timestamptz, job text, manifest text,
    manifest_signature text, signing_key_id text
) LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $lease$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH fence AS MATERIALIZED (
        SELECT pg_advisory_xact_lock_shared(1380404294, hashtext($4::text))
    ), candidates AS (
        SELECT t.id
        FROM tasks t
        WHERE EXISTS (SELECT FROM fence) AND NOT (SELECT worker_quarantined($4))
          AND t.state = 'queued' AND t.not_before <= now()
          AND t.gpus <= $1 AND (t.memory_bytes <= $2 OR $2 = 0)
          AND (NOT t.network OR $3)
          AND (t.group_size = 1 OR NOT replica_held_nearby(t.study_id, t.seed_group, t.id, t.distinct_accounts, $4))
          AND (t.group_size = 1 OR NOT lower_replica_queued(t.study_id, t.seed_group, t.id))
        ORDER BY t.id
        LIMIT $5
        FOR UPDATE SKIP LOCKED
    ), leased AS (
        UPDATE tasks t
        SET state = 'leased', lease_id = gen_random_uuid(), worker_id = $4, attempts = t.attempts + 1,
            lease_expires_at = now() + make_interval(secs => $6), progress = NULL, updated_at = now()
        WHERE t.id = ANY (ARRAY(SELECT c.id FROM candidates c))
        RETURNING t.id, t.lease_id, t.study_id, t.dataset, t.seed, t.configuration, t.replica, t.attempts, t.arguments,
                  t.lease_expires_at
    ), numbered AS (
        SELECT l.*, row_number() OVER (PARTITION BY l.study_id ORDER BY l.id) = 1 AS first FROM leased l
    )
    -- The study's job and manifest once per study in the batch, not once per task (decision 0014).
    SELECT n.id, n.lease_id, n.study_id, n.dataset, n.seed, n.configuration, n.replica, n.attempts,
           n.arguments::text, n.lease_expires_at, CASE WHEN n.first THEN s.job::text END,
           CASE WHEN n.first THEN s.manifest::text END, CASE WHEN n.first THEN s.manifest_signature END,
           CASE WHEN n.first THEN s.signing_key_id END
    FROM numbered n JOIN studies s ON s.id = n.study_id
    ORDER BY n.id;
END $lease$;
