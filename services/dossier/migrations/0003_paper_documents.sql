-- Scanned paper documents backing what staff record for someone else (issue 16, items 3-4):
-- a party's handwritten signature of a convention, a beneficiary's written consent to a
-- disclosure. The scan is sealed under the beneficiary's key, so their erasure shreds it; the
-- event that records the fact names the document and its SHA-256.
CREATE TABLE paper_documents (
    document_id uuid        PRIMARY KEY,
    dossier_id  uuid        NOT NULL,
    backs       text        NOT NULL,
    media_type  text        NOT NULL,
    sha256      text        NOT NULL,
    sealed      text        NOT NULL,
    recorded_by text        NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX paper_documents_dossier ON paper_documents (dossier_id);
