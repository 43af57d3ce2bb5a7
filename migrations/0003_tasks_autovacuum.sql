-- The lease statement walks the partial index of queued tasks in id order, and every lease leaves a dead
-- entry at its head until vacuum. With the default thresholds (20 % of the table) a busy queue bloats and
-- the lease slows down; vacuum the table after every 1 000 changed rows instead, without throttling.
ALTER TABLE tasks SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0,
    autovacuum_analyze_scale_factor = 0.02
);
