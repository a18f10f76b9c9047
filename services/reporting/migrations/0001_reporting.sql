-- The reporting projection lives in a schema per generation (`proj_<hex>`), made by
-- services/reporting/adapters/projection_db.py. This pointer names the one queries use; a
-- rebuild fills a new generation and switches the pointer in one transaction.
CREATE TABLE projection_pointer (
    singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    generation  text        NOT NULL,
    switched_at timestamptz NOT NULL DEFAULT now()
);

-- Records that could not be decoded and went to `<topic>.dlq`; keyed by their position so a
-- redelivery is counted once.
CREATE TABLE dead_letters (
    topic            text        NOT NULL,
    "partition"      integer     NOT NULL,
    "offset"         bigint      NOT NULL,
    reason           text        NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, "partition", "offset")
);
