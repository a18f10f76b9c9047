-- Some mails are useless, even harmful, past a moment: a session reminder once the session has
-- started, a survey reminder once the survey has closed. Such a mail carries that moment, and
-- the sender marks it 'expired' instead of sending it late (after an SMTP or service outage).
ALTER TABLE mail_outbox ADD COLUMN not_after timestamptz;
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_state_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_state_check CHECK (
    state IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'cancelled', 'expired')
);
CREATE INDEX mail_outbox_expiring ON mail_outbox (not_after)
    WHERE state = 'pending' AND not_after IS NOT NULL;
