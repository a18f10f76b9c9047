"""Words the pages build from the services' codes (`_(status)`, `_("request:" ~ kind)`):
listed here so that the catalogue extraction finds them (`N_` marks without translating)."""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802  # gettext's conventional name for a no-op mark
    return message


CODES = (
    # dossier status
    N_("open"),
    N_("completed"),
    N_("abandoned"),
    N_("withdrawn"),
    # session status
    N_("scheduled"),
    N_("held"),
    N_("cancelled"),
    N_("no_show"),
    # data-subject requests
    N_("fulfilled"),
    N_("refused"),
    N_("request:access"),
    N_("request:rectification"),
    N_("request:restriction"),
    N_("request:objection"),
    N_("request:erasure"),
    # what was read
    N_("read:working_documents"),
    N_("read:assessment_result"),
    N_("read:synthesis"),
    N_("read:export"),
    # working documents in the export
    N_("content:needs_analysis"),
    N_("content:field_inquiry_notes"),
    N_("content:training_needs"),
    N_("content:assessments"),
    # third parties who may receive the synthesis
    N_("recipient:cep_operator"),
    N_("recipient:employer"),
    N_("recipient:funder"),
    N_("recipient:other"),
    # complaints
    N_("category:organisation"),
    N_("category:content"),
    N_("category:consultant"),
    N_("category:billing"),
    N_("category:accessibility"),
    N_("category:other"),
    N_("complaint:received"),
    N_("complaint:acknowledged"),
    N_("complaint:answered"),
    N_("complaint:closed"),
    # why a beneficiary cannot come to a session
    N_("absence:illness"),
    N_("absence:force_majeure"),
    N_("absence:scheduling_conflict"),
    N_("absence:other"),
    # roles
    N_("beneficiary"),
    N_("consultant"),
    N_("psychologist"),
    N_("site_manager"),
    N_("quality_lead"),
    N_("auditor"),
    N_("admin"),
    N_("disability_referent"),
    # what happened in a dossier (the export's history)
    N_("event:DossierOpened"),
    N_("event:DeontologyInformationAcknowledged"),
    N_("event:NeedsAnalysisRecorded"),
    N_("event:PersonalisedProgrammeAgreed"),
    N_("event:ConventionDrafted"),
    N_("event:ConventionSentForSignature"),
    N_("event:ConventionSignedByParty"),
    N_("event:ConventionSigned"),
    N_("event:ConventionDeemedRefused"),
    N_("event:WithdrawalExercised"),
    N_("event:ReferentConsultantAssigned"),
    N_("event:PhaseStarted"),
    N_("event:PhaseCompleted"),
    N_("event:AssessmentAdministered"),
    N_("event:FieldInquiryCompleted"),
    N_("event:TrainingNeedIdentified"),
    N_("event:DetailedResultsHandedOver"),
    N_("event:SynthesisDrafted"),
    N_("event:SynthesisDelivered"),
    N_("event:ThirdPartyDisclosureConsentGiven"),
    N_("event:ThirdPartyDisclosureConsentRevoked"),
    N_("event:ProcessingRestricted"),
    N_("event:RestrictionLifted"),
    N_("event:SynthesisDisclosed"),
    N_("event:DossierCompleted"),
    N_("event:DossierAbandoned"),
    N_("event:RetentionAgreed"),
    N_("event:WorkingDocumentsDestroyed"),
    # six-month situation
    N_("project_in_progress"),
    N_("in_training"),
    N_("new_job"),
    N_("business_created"),
    N_("unchanged"),
    N_("other"),
)
