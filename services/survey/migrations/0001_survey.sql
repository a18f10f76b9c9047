-- Read models of the survey service. The event store is the truth; these rows are rewritten in
-- the same transaction as each append, so queries never see a state the events do not hold.

-- What the survey service knows of a dossier, from the dossier service's events.
CREATE TABLE survey_dossiers (
    dossier_id     uuid        PRIMARY KEY,
    beneficiary_id uuid,
    site_id        text        NOT NULL,
    state          text        NOT NULL CHECK (state IN ('open', 'completed', 'abandoned', 'erased')),
    completed_at   timestamptz
);
CREATE INDEX survey_dossiers_beneficiary ON survey_dossiers (beneficiary_id);

CREATE TABLE surveys (
    survey_id             uuid        PRIMARY KEY,
    dossier_id            uuid,
    site_id               text        NOT NULL,
    campaign              text        NOT NULL,
    respondent_role       text        NOT NULL,
    questionnaire_version integer     NOT NULL,
    status                text        NOT NULL,
    created_at            timestamptz NOT NULL,
    sent_at               timestamptz,
    expires_at            timestamptz,
    reminders_sent        integer     NOT NULL DEFAULT 0,
    answered_at           timestamptz,
    satisfaction_score    integer,
    version               integer     NOT NULL
);
-- One survey per dossier and campaign, whatever redelivery or replay happens upstream.
CREATE UNIQUE INDEX surveys_one_per_dossier_campaign ON surveys (dossier_id, campaign)
    WHERE dossier_id IS NOT NULL;
CREATE INDEX surveys_site ON surveys (site_id, campaign);

-- SHA-256 of each single-use answer link; the token itself is never stored.
CREATE TABLE survey_links (
    token_hash text PRIMARY KEY,
    survey_id  uuid NOT NULL REFERENCES surveys (survey_id)
);

-- A stakeholder's address, sealed under a key of its own that is shredded when the survey
-- closes (answered, expired or cancelled).
CREATE TABLE stakeholder_contacts (
    survey_id    uuid PRIMARY KEY REFERENCES surveys (survey_id),
    sealed_email text NOT NULL
);

CREATE TABLE questionnaires (
    campaign     text        NOT NULL,
    version      integer     NOT NULL CHECK (version >= 1),
    definition   jsonb       NOT NULL,
    published_at timestamptz NOT NULL,
    published_by text        NOT NULL,
    PRIMARY KEY (campaign, version)
);

CREATE TABLE complaints (
    complaint_id       uuid        PRIMARY KEY,
    site_id            uuid        NOT NULL,
    dossier_id         uuid,
    complainant_role   text        NOT NULL,
    category           text        NOT NULL,
    channel            text        NOT NULL,
    status             text        NOT NULL,
    received_at        timestamptz NOT NULL,
    acknowledge_due_at timestamptz NOT NULL,
    answer_due_at      timestamptz NOT NULL,
    acknowledged_at    timestamptz,
    answered_at        timestamptz,
    closed_at          timestamptz,
    resolution         text,
    version            integer     NOT NULL
);
CREATE INDEX complaints_site ON complaints (site_id, received_at);

CREATE TABLE improvement_actions (
    action_id    uuid        PRIMARY KEY,
    source       text        NOT NULL,
    source_id    uuid,
    site_id      uuid,
    owner_id     text        NOT NULL,
    due_at       timestamptz NOT NULL,
    opened_at    timestamptz NOT NULL,
    completed_at timestamptz,
    version      integer     NOT NULL
);
CREATE INDEX improvement_actions_site ON improvement_actions (site_id, due_at);

-- Beneficiaries erased (BeneficiaryErased): a dossier of theirs that this service learns of
-- later (events of other keys may arrive after the erasure) starts no survey.
CREATE TABLE survey_erased_beneficiaries (
    beneficiary_id uuid        PRIMARY KEY,
    erased_at      timestamptz NOT NULL
);
