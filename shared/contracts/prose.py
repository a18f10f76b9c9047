"""The words of the integration contract that no model can say: privacy, envelope, rules.

The models (`shared.contracts.dossier`, `scheduling`, `survey`) state every type, field, key
and closed list; this module holds the rest of the contract (v1.1), once, for the documents
generated from both (`shared.contracts.asyncapi`, `shared.contracts.page`).
"""

from __future__ import annotations

CONTRACT_VERSION = "1.1.0"
"""The contract's version: additive changes bump the minor, a new type version is `.vN`."""

TITLE = "Bilan integration events"

PURPOSE = (
    "The contract between the services. Every service publishes exactly these event types on "
    "its topic, with these fields, and consumes the others' events only through this contract. "
    "Internal domain events may carry more (encrypted content, internal ids), but what goes on "
    "Kafka is this and nothing else. Anything that reads the topics (another service, the "
    "reporting projections, an auditor's tool, a test written by someone else) must be able to "
    "rely on it."
)

EVOLUTION = (
    "Change it only additively (a new optional field, a new type). A breaking change is a new "
    "type version (`.v2`); consumers keep decoding every older version, because the topics keep "
    "the whole history. Producers publish only the newest version of a type."
)

PRIVACY = (
    "Kafka carries facts, never content. No event carries a name, an e-mail address, a phone "
    "number, a postal address, free text written by or about a beneficiary, a test result, a "
    "needs analysis, a project, or the synthesis. Those stay inside the owning service, "
    "encrypted under a per-subject key, and are destroyed by deleting that key. Events carry "
    "pseudonymous ids (UUIDs), categories from closed lists, timestamps, durations, counts and "
    "scores (the names and regions of sites are the only labels). This is what lets the topics "
    "be retained forever for replay and still honour R6313-7 and GDPR erasure."
)

TOPICS_NOTE = (
    "Retention is unlimited (`retention.ms=-1`): the topics are the replayable history. Order is "
    "guaranteed per key only. Closed lists are lower-case snake_case strings. The value is the "
    "JSON object of the data fields (snake_case keys, UTC RFC 3339 times, integer minutes and "
    "cents); an optional field without a value is absent."
)

HEADERS: tuple[tuple[str, str], ...] = (
    ("ce_specversion", "`1.0`"),
    ("ce_id", "UUID of the event, unique forever; consumers de-duplicate on it"),
    ("ce_source", "`/bilan/<service>` (`/bilan/dossier`, `/bilan/scheduling`, `/bilan/survey`)"),
    ("ce_type", "`bilan.<service>.<EventName>.v<N>`, e.g. `bilan.dossier.ConventionSigned.v1`"),
    ("ce_time", "RFC 3339 UTC time at which the fact happened (business time)"),
    (
        "ce_subject",
        "the id of the aggregate that emitted the event (`session_id` for session events, "
        "`complaint_id` for complaints, …)",
    ),
    (
        "ce_sequence",
        "the aggregate's stream version, as a decimal string: 1, 2, 3 … per subject, no gaps",
    ),
    (
        "ce_siteid",
        "the site the fact belongs to (extension attribute); `org` for organisation-wide facts: "
        "the DataSubjectRequest* events, BeneficiaryErased, and staff events of a staff member "
        "who covers more than one site (a staff member of exactly one site carries that site)",
    ),
    ("ce_correlationid", "id shared by everything caused by one user request (extension)"),
    ("ce_causationid", "`ce_id` of the event or request id that caused this one (extension)"),
    ("content-type", "`application/json`"),
)
"""The CloudEvents 1.0 Kafka binary-mode headers, in the order producers write them."""

RULES: tuple[str, ...] = (
    "`ce_id` is unique; a consumer that sees it twice ignores the second copy.",
    "Per subject, events arrive in `ce_sequence` order with no gaps. Nothing is promised across "
    "subjects or topics: a consumer must not assume that a `ConventionSigned` reaches it before "
    "a `SessionHeld` of the same dossier. Rules 3 to 8 speak of business time (`ce_time`) and "
    "are enforced by the producers when they accept a command.",
    "A `SessionHeld` whose phase is `preliminary`, `investigation` or `conclusion` never "
    "precedes the dossier's `ConventionSigned`.",
    "`PhaseStarted(investigation)` follows `PhaseCompleted(preliminary)`, "
    "`NeedsAnalysisRecorded` and `PersonalisedProgrammeAgreed`; `PhaseStarted(conclusion)` "
    "follows `PhaseCompleted(investigation)`.",
    "`DossierCompleted` follows `PhaseCompleted(conclusion)`, `SynthesisDelivered` and "
    "`DetailedResultsHandedOver`, and its `held_minutes` is the sum of the dossier's "
    "`SessionHeld` durations in the three bilan phases; that sum never exceeds 1,440 (24 hours, "
    "L6313-4).",
    "An `AssessmentAdministered` with a `required_habilitation` names a staff member whose "
    "`QualificationRecorded` holds that habilitation.",
    "After `DossierCompleted`, `DossierAbandoned` or `WithdrawalExercised`, "
    "`WorkingDocumentsDestroyed` follows within the configured grace period, unless a "
    "`RetentionAgreed` covers the documents, in which case it follows at `expires_at` at the "
    "latest.",
    "Every `DataSubjectRequestReceived` has a `due_at` one calendar month after `received_at` "
    "(GDPR art. 12(3)), and is answered by at most one `DataSubjectRequestFulfilled` or "
    "`DataSubjectRequestRefused` with the same `request_id`. Answering late is possible (people "
    "answer them); the reporting service shows it.",
)
"""The rules every producer keeps (consumers may rely on them), numbered from 1."""

REQUIRED_PARTIES = (
    "Required parties by convention kind: `tripartite` and `public_model`: beneficiary, "
    "employer, provider; `individual_contract` and `cpf`: beneficiary, provider."
)

CHANGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "1.1.0",
        (
            "`SixMonthSituationReported.v2` is keyed by `survey_id`, like every other event of "
            "that survey. `.v1` was keyed by `dossier_id` while its subject was the survey, so "
            "one subject's events landed on two partitions and rule 2 could not hold. Producers "
            "publish `.v2` only; consumers decode both (the history keeps `.v1` records).",
            "New type `SurveyCancelled`: a survey that can no longer be answered (the "
            "beneficiary was erased, the convention was withdrawn). It is no longer waiting for "
            "an answer, so the response rates leave it out.",
            "New optional fields: `ConventionSignedByParty.method`, `SurveySent.session_id`.",
            "Made explicit: `SurveyAnswered.dossier_id` is null for stakeholder surveys; "
            "`notice_version` and `questionnaire_version` are integers; the required parties of "
            "each convention kind; `ce_siteid` of organisation-wide facts; rule 7 also applies "
            "after a withdrawal.",
        ),
    ),
)
"""What changed, newest first."""
