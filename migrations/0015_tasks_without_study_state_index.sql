-- tasks_study_state (study_id, state) goes (issue 16; BENCHMARKS.md, "Results without a shared row lock").
--
-- Every task row was written into it three times: at expansion, and again by the lease and by the result,
-- which change `state` and so cannot be HOT updates. A million-task submission spent about a tenth of its
-- time on it (1 000 000 index entries, ~75 B of WAL each), and each lease and result one more index entry.
-- Every query that used it leads with study_id, which the unique index on (study_id, seed_group, replica)
-- also serves; the state is then read from the row. Measured on a 1 000 000-task study: the per-state counts
-- of one study (the study's status) take 200–265 ms instead of 70–80 ms; a study of 10 000 tasks, a few
-- milliseconds either way.
DROP INDEX tasks_study_state;
