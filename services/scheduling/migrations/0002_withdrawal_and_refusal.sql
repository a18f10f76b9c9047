-- Contract v1.1: a withdrawal ends the dossier's scheduling, and a convention deemed refused
-- stops its bilan sessions until another convention is signed.
ALTER TABLE dossiers ADD COLUMN withdrawn_at timestamptz;
ALTER TABLE dossiers ADD COLUMN convention_refused_at timestamptz;
