-- Session feedback (contract v1.1): one survey per held session, so a dossier has several of
-- that campaign; every other campaign keeps one survey per dossier.
ALTER TABLE surveys ADD COLUMN session_id uuid;
DROP INDEX surveys_one_per_dossier_campaign;
CREATE UNIQUE INDEX surveys_one_per_dossier_campaign ON surveys (dossier_id, campaign)
    WHERE dossier_id IS NOT NULL AND campaign <> 'session_feedback';
CREATE UNIQUE INDEX surveys_one_per_session ON surveys (session_id) WHERE session_id IS NOT NULL;

-- The bilan-phase sessions held, learnt from the scheduling service: which one was the last of
-- its phase when the phase completes.
CREATE TABLE survey_held_sessions (
    session_id uuid        PRIMARY KEY,
    dossier_id uuid        NOT NULL,
    phase      text        NOT NULL,
    started_at timestamptz NOT NULL
);
CREATE INDEX survey_held_sessions_dossier ON survey_held_sessions (dossier_id, phase);
