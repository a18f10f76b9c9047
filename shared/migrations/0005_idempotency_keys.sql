-- Creating commands accept an Idempotency-Key: a retried request with the same key returns
-- the first outcome instead of creating a second resource. The claim row is inserted in the
-- command's own transaction (so it exists exactly when the command committed); the response is
-- written once it is known. Rows are kept for a day (`created_at`), then purged.
CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    status integer,
    headers jsonb,
    body bytea,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
