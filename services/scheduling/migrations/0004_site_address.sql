-- Where a site is, as a beneficiary reads it beside the room of their next session (the
-- charter's "address and room"). Optional: sites opened before this carry none.
ALTER TABLE sites ADD COLUMN address text;
