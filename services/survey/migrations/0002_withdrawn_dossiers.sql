-- A dossier whose beneficiary withdrew from the convention (contract v1.1): its surveys are
-- cancelled and none is started for it.
ALTER TABLE survey_dossiers DROP CONSTRAINT survey_dossiers_state_check;
ALTER TABLE survey_dossiers ADD CONSTRAINT survey_dossiers_state_check
    CHECK (state IN ('open', 'completed', 'abandoned', 'erased', 'withdrawn'));
