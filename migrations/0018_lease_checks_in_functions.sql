-- Issue 16: the lease statement is planned on every call (its custom plan knows the batch size and the
-- worker's resources; the generic plan cannot, so PostgreSQL never picks it), and planning was about 5 % of
-- the machine in a batch-50 run. The quarantine gate and the replica rules were subqueries the planner worked
-- through on every call although they run only for a quarantined worker or a replicated task: as functions
-- they are one call node each to plan (pg_stat_statements with track_planning, batch-50 runs: 0.54 ms of
-- planning per lease against 1.01 ms). plpgsql, so they are not inlined back into the statement; STABLE, so they read with the calling
-- statement's snapshot, as the subqueries did. The lease evaluates the replica rules only for tasks with
-- group_size > 1 (`group_size = 1 OR …`), and the quarantine gate once per statement (an InitPlan).

-- Whether the worker, or the volunteer account it belongs to, is quarantined (decision 0008).
CREATE FUNCTION worker_quarantined(p_worker uuid) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (
        SELECT FROM quarantines q
        WHERE q.released_at IS NULL
          AND (q.worker_id = p_worker
               OR q.account_id = (SELECT w.owner_account_id FROM workers w WHERE w.id = p_worker)));
END $$;

-- Whether another replica of the task's seed group went to this worker or, for spot-checked groups
-- (distinct accounts), to any worker of the same account: replicas must land on distinct workers.
CREATE FUNCTION replica_held_nearby(
    p_study uuid, p_seed_group int, p_task bigint, p_distinct_accounts boolean, p_worker uuid
) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (
        SELECT FROM tasks s
        WHERE s.study_id = p_study AND s.seed_group = p_seed_group AND s.id <> p_task
          AND (s.worker_id = p_worker
               OR (p_distinct_accounts AND s.worker_id IN (
                   SELECT o.id FROM workers o JOIN workers me ON me.owner_account_id = o.owner_account_id
                   WHERE me.id = p_worker))));
END $$;

-- Whether a lower replica of the task's seed group is queued and due: a lease takes one replica of a group at
-- a time, the lowest, so a batch never holds two and locks only what it leases.
CREATE FUNCTION lower_replica_queued(p_study uuid, p_seed_group int, p_task bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (
        SELECT FROM tasks f
        WHERE f.study_id = p_study AND f.seed_group = p_seed_group AND f.id < p_task
          AND f.state = 'queued' AND f.not_before <= now());
END $$;
