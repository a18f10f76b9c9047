-- The dossier's referent consultant, learnt from ReferentConsultantAssigned: whom to tell that
-- their beneficiary left feedback (a pseudonymous staff id; the address stays in scheduling).
ALTER TABLE survey_dossiers ADD COLUMN referent_id uuid;
