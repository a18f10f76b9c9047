-- OpenID Connect sign-ins under way: the SHA-256 of the `state` sent to the provider, with the
-- nonce and the PKCE verifier it must come back to; spent once (deleted) by the callback.
CREATE TABLE oidc_attempts (
    state_hash    bytea       PRIMARY KEY,
    nonce         text        NOT NULL,
    code_verifier text        NOT NULL,
    created_at    timestamptz NOT NULL
);
