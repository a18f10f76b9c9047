-- The keyed blind index of each beneficiary's e-mail address (shared/blind_index.py), so that
-- the console can find who asks for a sign-in link without any plaintext search. Written
-- with the registration and each rectification, deleted with erasure.
CREATE TABLE beneficiary_email_index (
    beneficiary_id uuid PRIMARY KEY,
    email_index    text NOT NULL
);
CREATE INDEX beneficiary_email_index_lookup ON beneficiary_email_index (email_index);
