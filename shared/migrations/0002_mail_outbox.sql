-- E-mails to send. A row names its recipient by reference (a dossier id), never by address:
-- the address is fetched from the dossier service at send time and never stored here.
CREATE TABLE mail_outbox (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mail_key        text        NOT NULL UNIQUE,
    recipient_ref   text        NOT NULL,
    template        text        NOT NULL,
    params          jsonb       NOT NULL,
    state           text        NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'cancelled')),
    attempts        integer     NOT NULL DEFAULT 0,
    not_before      timestamptz NOT NULL,
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX mail_outbox_due ON mail_outbox (not_before) WHERE state = 'pending';
