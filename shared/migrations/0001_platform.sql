-- Platform tables every command-side service has: event store, outbox, consumer
-- de-duplication, data keys for crypto-shredding, durable timers.

-- One row per stream: its current version. Appends lock this row, which serialises writers of
-- one stream (a concurrent append waits, then fails its version check) and guarantees that a
-- later version is inserted only after the earlier one committed.
CREATE TABLE streams (
    stream_id text PRIMARY KEY,
    version   integer NOT NULL CHECK (version >= 0)
);

CREATE TABLE events (
    stream_id   text        NOT NULL,
    version     integer     NOT NULL CHECK (version >= 1),
    event_id    uuid        NOT NULL,
    event_type  text        NOT NULL,
    data        jsonb       NOT NULL,
    metadata    jsonb       NOT NULL,
    recorded_at timestamptz NOT NULL,
    -- Global order for read_all. Identity values are taken at insert time, so they commit out
    -- of order; read_all therefore orders by the writing transaction first (see read_all).
    position    bigint      GENERATED ALWAYS AS IDENTITY,
    tx_id       xid8        NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (stream_id, version)
);
CREATE INDEX events_tx_position ON events (tx_id, position);

-- Per-subject counters of published integration events: ce_sequence is 1, 2, 3 … per subject
-- with no gaps even when some domain events are never published.
CREATE TABLE outbox_subjects (
    subject       text   PRIMARY KEY,
    last_sequence bigint NOT NULL
);

-- Integration events waiting for the relay; a row is deleted once the broker acknowledged it.
CREATE TABLE outbox (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       uuid        NOT NULL,
    topic          text        NOT NULL,
    partition_key  text        NOT NULL,
    subject        text        NOT NULL,
    sequence       bigint      NOT NULL,
    ce_type        text        NOT NULL,
    ce_source      text        NOT NULL,
    ce_time        text        NOT NULL,
    site_id        text        NOT NULL,
    correlation_id text        NOT NULL,
    causation_id   text        NOT NULL,
    value          bytea       NOT NULL,
    enqueued_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Idempotent consumers: a ce_id recorded here in the same transaction as its effects.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, event_id)
);

-- Crypto-shredding: one data key per subject (beneficiary or dossier), wrapped under the
-- master key. Deleting the row is erasure; the tombstone keeps a key from being re-created.
CREATE TABLE data_keys (
    subject_id  text        PRIMARY KEY,
    kek_id      text        NOT NULL,
    wrapped_key bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE shredded_subjects (
    subject_id  text        PRIMARY KEY,
    shredded_at timestamptz NOT NULL
);

CREATE TABLE timers (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text        NOT NULL,
    due_at     timestamptz NOT NULL,
    payload    jsonb       NOT NULL,
    timer_key  text        UNIQUE,
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text,
    state      text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'fired', 'failed', 'cancelled')),
    fired_at   timestamptz,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX timers_pending_due ON timers (due_at) WHERE state = 'pending';

-- Enqueues integration events; the per-subject counter row is locked before the outbox row
-- takes its id, so a subject's rows get increasing ids in sequence order.
CREATE FUNCTION bilan_outbox_enqueue(
    p_event_ids      uuid[],
    p_topics         text[],
    p_keys           text[],
    p_subjects       text[],
    p_types          text[],
    p_sources        text[],
    p_times          text[],
    p_sites          text[],
    p_correlations   text[],
    p_causations     text[],
    p_values         bytea[]
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    seq bigint;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_event_ids, 1), 0) LOOP
        INSERT INTO outbox_subjects (subject, last_sequence) VALUES (p_subjects[i], 1)
        ON CONFLICT (subject) DO UPDATE SET last_sequence = outbox_subjects.last_sequence + 1
        RETURNING last_sequence INTO seq;
        INSERT INTO outbox (event_id, topic, partition_key, subject, sequence, ce_type, ce_source,
                            ce_time, site_id, correlation_id, causation_id, value)
        VALUES (p_event_ids[i], p_topics[i], p_keys[i], p_subjects[i], seq, p_types[i], p_sources[i],
                p_times[i], p_sites[i], p_correlations[i], p_causations[i], p_values[i]);
    END LOOP;
END
$$;

-- Appends, with the outbox rows of the same command, in one round trip. Raises SQLSTATE BL409
-- when the stream is not at the expected version, so the caller can answer 409 without a
-- second query.
CREATE FUNCTION bilan_append(
    p_stream_id   text,
    p_expected    integer,
    p_event_ids   uuid[],
    p_types       text[],
    p_data        jsonb[],
    p_metadata    jsonb[],
    p_recorded_at timestamptz,
    -- The outbox messages written in the same transaction (parallel arrays, may be empty).
    o_event_ids    uuid[],
    o_topics       text[],
    o_keys         text[],
    o_subjects     text[],
    o_types        text[],
    o_sources      text[],
    o_times        text[],
    o_sites        text[],
    o_correlations text[],
    o_causations   text[],
    o_values       bytea[]
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n         integer := coalesce(array_length(p_event_ids, 1), 0);
    new_version integer := p_expected + n;
    actual    integer;
BEGIN
    IF n = 0 THEN
        RETURN p_expected;
    END IF;
    IF p_expected = 0 THEN
        INSERT INTO streams (stream_id, version) VALUES (p_stream_id, new_version)
        ON CONFLICT (stream_id) DO NOTHING;
    ELSE
        UPDATE streams SET version = new_version
        WHERE stream_id = p_stream_id AND version = p_expected;
    END IF;
    IF NOT FOUND THEN
        SELECT version INTO actual FROM streams WHERE stream_id = p_stream_id;
        RAISE EXCEPTION 'stream % is at version %, not %', p_stream_id, coalesce(actual, 0), p_expected
            USING ERRCODE = 'BL409';
    END IF;
    INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, recorded_at)
    SELECT p_stream_id, p_expected + i, p_event_ids[i], p_types[i], p_data[i], p_metadata[i], p_recorded_at
    FROM generate_subscripts(p_event_ids, 1) AS i;
    PERFORM bilan_outbox_enqueue(o_event_ids, o_topics, o_keys, o_subjects, o_types, o_sources,
                                 o_times, o_sites, o_correlations, o_causations, o_values);
    RETURN new_version;
END
$$;
