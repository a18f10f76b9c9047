-- Read models of the scheduling service, updated in the transaction of the events they mirror.

CREATE TABLE sites (
    site_id   uuid        PRIMARY KEY,
    name      text        NOT NULL,
    region    text        NOT NULL,
    opened_at timestamptz NOT NULL
);

CREATE TABLE rooms (
    room_id       uuid        PRIMARY KEY,
    site_id       uuid        NOT NULL REFERENCES sites,
    name          text        NOT NULL,
    confidential  boolean     NOT NULL,
    registered_at timestamptz NOT NULL
);
CREATE INDEX rooms_site ON rooms (site_id);

-- Staff names are personal data of employees: sealed under a key per staff member.
CREATE TABLE staff (
    staff_id      uuid        PRIMARY KEY,
    name_sealed   text,
    roles         text[]      NOT NULL,
    site_ids      uuid[]      NOT NULL,
    contract      text        NOT NULL,
    habilitations text[]      NOT NULL DEFAULT '{}',
    onboarded_at  timestamptz NOT NULL,
    left_at       timestamptz,
    version       integer     NOT NULL
);
CREATE INDEX staff_sites ON staff USING gin (site_ids);

CREATE TABLE staff_records (
    staff_id    uuid        NOT NULL REFERENCES staff,
    version     integer     NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('qualification', 'training', 'evaluation')),
    code        text        NOT NULL,
    habilitations text[],
    hours       double precision,
    happened_at timestamptz NOT NULL,
    PRIMARY KEY (staff_id, version)
);

-- What the dossier service told us, tolerant of any arrival order across event types.
CREATE TABLE dossiers (
    dossier_id           uuid PRIMARY KEY,
    beneficiary_id       uuid,
    site_id              uuid,
    convention_signed_at timestamptz,
    referent_id          uuid,
    completed_at         timestamptz,
    abandoned_at         timestamptz
);

CREATE TABLE sessions (
    session_id           uuid        PRIMARY KEY,
    dossier_id           uuid        NOT NULL,
    site_id              uuid        NOT NULL,
    consultant_id        uuid        NOT NULL,
    room_id              uuid,
    modality             text        NOT NULL,
    phase                text        NOT NULL,
    starts_at            timestamptz NOT NULL,
    planned_minutes      integer     NOT NULL,
    status               text        NOT NULL,
    revision             integer     NOT NULL,
    join_link            text,
    held_started_at      timestamptz,
    held_minutes         integer,
    beneficiary_signed_at timestamptz,
    consultant_signed_at timestamptz,
    version              integer     NOT NULL
);
CREATE INDEX sessions_consultant ON sessions (consultant_id, starts_at);
CREATE INDEX sessions_room ON sessions (room_id, starts_at);
CREATE INDEX sessions_dossier ON sessions (dossier_id);

-- Calendar feeds are read by calendar apps that cannot send a token: the URL holds a secret,
-- of which only the hash is kept.
CREATE TABLE calendar_feeds (
    staff_id    uuid        PRIMARY KEY REFERENCES staff,
    secret_hash text        NOT NULL UNIQUE,
    rotated_at  timestamptz NOT NULL
);
