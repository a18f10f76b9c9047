-- Read models of the dossier service, kept in the same transactions as the events they follow.

-- One row per dossier: who it belongs to and where it stands, for lookups and erasure.
CREATE TABLE dossier_index (
    dossier_id     uuid        PRIMARY KEY,
    beneficiary_id uuid        NOT NULL,
    site_id        uuid        NOT NULL,
    status         text        NOT NULL,
    referent_id    uuid,
    version        integer     NOT NULL,
    opened_at      timestamptz NOT NULL
);
CREATE INDEX dossier_index_beneficiary ON dossier_index (beneficiary_id);

-- Staff as learnt from the scheduling service: who may be a referent, who holds which
-- habilitation (rule 6).
CREATE TABLE staff (
    staff_id      uuid        PRIMARY KEY,
    roles         text[]      NOT NULL DEFAULT '{}',
    site_ids      text[]      NOT NULL DEFAULT '{}',
    active        boolean     NOT NULL DEFAULT false,
    habilitations text[]      NOT NULL DEFAULT '{}',
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Every read of bilan content: who, when, what. The beneficiary can read it (GDPR art. 15).
CREATE TABLE content_access_log (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    beneficiary_id uuid        NOT NULL,
    dossier_id     uuid,
    reader_id      text        NOT NULL,
    reader_roles   text[]      NOT NULL,
    what           text        NOT NULL,
    read_at        timestamptz NOT NULL
);
CREATE INDEX content_access_log_beneficiary ON content_access_log (beneficiary_id, read_at);
