-- The console's own state: sessions, sign-in links and the sign-in rate limit. No personal
-- data: people are named by their ids (beneficiary or staff), addresses only as blind indexes.

-- A session is known by the SHA-256 of the random id in its cookie: a copy of this table
-- does not let anyone take over a session.
CREATE TABLE console_sessions (
    id_hash      bytea PRIMARY KEY,
    subject      text NOT NULL,
    roles        text[] NOT NULL,
    sites        text[] NOT NULL,
    csrf_token   text NOT NULL,
    via          text NOT NULL,           -- email_link | development | oidc
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX console_sessions_subject ON console_sessions (subject);

-- A sign-in link: the token exists only in the mail; its hash is stored when the mail leaves
-- (expires_at is counted from then), and `used_at` makes it single use.
CREATE TABLE sign_in_links (
    link_id      uuid PRIMARY KEY,
    token_hash   bytea UNIQUE,
    subject      text NOT NULL,
    roles        text[] NOT NULL,
    sites        text[] NOT NULL,
    requested_at timestamptz NOT NULL,
    expires_at   timestamptz,
    used_at      timestamptz
);

-- One row per sign-in request, by bucket (`address:<blind index>`, `client:<hash of IP>`).
CREATE TABLE sign_in_attempts (
    bucket text NOT NULL,
    at     timestamptz NOT NULL
);
CREATE INDEX sign_in_attempts_bucket_at ON sign_in_attempts (bucket, at);
