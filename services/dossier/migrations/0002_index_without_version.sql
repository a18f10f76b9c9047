-- The index no longer repeats the stream's version: writing it made every command update the
-- index row. The version is read from `streams` when the index is listed, and the row is
-- written only when what it indexes (status, referent) changes.
ALTER TABLE dossier_index DROP COLUMN version;
