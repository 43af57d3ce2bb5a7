-- The study page lists a study's runs a page at a time, in id order after a given run (issue 13): with the
-- index on study_id alone, each page sorted all of a 10 000-run study's runs to return 100. (study_id, id)
-- serves that directly and everything runs_study served (every other query of a study's runs leads with
-- study_id), so it replaces it: one index on runs, as before, for every insert.
CREATE INDEX runs_study_id ON runs (study_id, id);
DROP INDEX runs_study;
