-- Evidence of a convention signed online by the beneficiary (a simple electronic signature):
-- who (their id, as their session said), when, the SHA-256 of the exact PDF they were shown
-- and signed, and the session it came from (the SHA-256 of its cookie, as stored).
CREATE TABLE convention_signatures (
    convention_id   uuid        PRIMARY KEY,
    dossier_id      uuid        NOT NULL,
    subject         text        NOT NULL,
    signed_at       timestamptz NOT NULL,
    document_sha256 text        NOT NULL,
    session_ref     bytea       NOT NULL
);
