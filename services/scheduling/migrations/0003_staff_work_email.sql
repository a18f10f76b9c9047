-- A staff member's work e-mail address, for signing in to the console and for the mails that
-- tell a consultant of a beneficiary's request: sealed under the staff member's own key (as
-- the name), with the keyed blind index of the normalised address (shared/blind_index.py) for
-- the console's look-up. Never published: StaffMemberOnboarded does not carry it.
ALTER TABLE staff ADD COLUMN email_sealed text;
ALTER TABLE staff ADD COLUMN email_index text;
CREATE INDEX staff_email_index ON staff (email_index) WHERE email_index IS NOT NULL;
