-- Issue 16: autovacuum's ANALYZE of the three tables every result writes was 7 % of the machine's CPU in a
-- 150 000-task run at batch 50 (perf: analyze_rel under the autovacuum workers), about as much as the lease
-- statement's planning. With the default scale factor (0.1) `tasks` was analyzed every 15 000 changes, some
-- 20 times in the run, and `runs` and `run_metrics` each time they grew by a tenth; each pass samples 30 000
-- rows. What the statistics are for does not need that:
--   - `tasks`: the lease walks the partial index `tasks_queued` in id order under a small LIMIT whatever the
--     statistics say, as long as they do not claim the queue is empty, and a submission runs ANALYZE itself
--     after expanding a study (TaskStatistics); a running study only moves rows between states.
--   - `runs`, `run_metrics`: append-only; their statistics steer the report and score joins, which stay the
--     same plans while the estimates are within 1.5x of the row counts.
-- So these are analyzed after half their rows changed instead of a tenth (interleaved A/B, 150 000 tasks,
-- batch 50: median 10 256 tasks/s against 8 956; never analyzing during the run: medians 10 356 against 8 126).
-- Vacuum settings are unchanged: the dead index entries a lease walks past need vacuum as often as before.
ALTER TABLE tasks SET (autovacuum_analyze_scale_factor = 0.5);
ALTER TABLE runs SET (autovacuum_analyze_scale_factor = 0.5);
ALTER TABLE run_metrics SET (autovacuum_analyze_scale_factor = 0.5);
