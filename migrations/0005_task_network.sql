-- Tasks of studies that declare `run.network: true` may use the network, and only workers whose volunteer
-- allowed it (`repro-worker --allow-network`, `allow_network` in the lease request) may lease them. The flag
-- is stored on each task, filled at expansion like gpus and memory_bytes, so the lease filters on it while
-- it walks the partial index tasks_queued, with no join to studies.
--
-- A constant default makes this a catalogue change, without rewriting the table. Every existing task is
-- rightly false: specs were refused with an unknown key `network` before this version.
ALTER TABLE tasks ADD COLUMN network boolean NOT NULL DEFAULT false;
