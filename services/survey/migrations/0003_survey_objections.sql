-- Beneficiaries whose objection (GDPR art. 21) to the satisfaction surveys was upheld: their
-- surveys are cancelled and no new one is made (issue 16, item 7).
CREATE TABLE survey_objected_beneficiaries (
    beneficiary_id uuid        PRIMARY KEY,
    objected_at    timestamptz NOT NULL
);
