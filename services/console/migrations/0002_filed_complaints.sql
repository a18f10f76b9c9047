-- The complaints a person filed through the console, by id only (the texts stay sealed in the
-- survey service), so that their space can list them and ask for each one's status.
CREATE TABLE filed_complaints (
    subject      text        NOT NULL,
    complaint_id uuid        PRIMARY KEY,
    dossier_id   uuid,
    filed_at     timestamptz NOT NULL
);
CREATE INDEX filed_complaints_subject ON filed_complaints (subject, filed_at);
