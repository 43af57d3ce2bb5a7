-- Placeholder on the `crosscheck` branch only: version 0006 belongs to the moderation and signing work
-- (audit_log and friends), which lands on another branch. Migrations must run without gaps, so this branch
-- holds the number with an empty file; at merge, the real 0006 replaces this file (delete it then).
SELECT 1;
