-- The list of surveys shows the scores and the situation code an answer gave, as the detail
-- does (issue 16, item 10). Neither is free text nor personal data. NULL scores mean "answered
-- before this column existed": the list reads those surveys from their events.
ALTER TABLE surveys ADD COLUMN scores jsonb, ADD COLUMN situation text;
