-- Placeholder on branch `dashboard` only: migration 0008 belongs to issue 11 (API contract, preprint
-- ownership), developed in parallel. The runner refuses gaps, so this branch's 0009 needs an 0008 to
-- run at all. At merge, issue 11's 0008 replaces this file (it changes nothing here).
SELECT 1;
