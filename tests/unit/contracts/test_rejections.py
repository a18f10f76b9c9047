"""Values outside the contract are refused, never coerced.

Each case starts from a valid Kafka value (`example_data`), spoils one field, and expects a
`ValidationError` both from a Python dict and from JSON text.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from shared.contracts import (
    EVENT_TYPES,
    AssessmentAdministered,
    ContinuousTrainingCompleted,
    ConventionDeemedRefused,
    ConventionDrafted,
    DataSubjectRequestReceived,
    DataSubjectRequestRefused,
    DossierCompleted,
    IntegrationEvent,
    PersonalisedProgrammeAgreed,
    QualificationRecorded,
    ReferentConsultantAssigned,
    RetentionAgreed,
    SessionCancelled,
    SessionHeld,
    SessionRescheduled,
    SessionScheduled,
    SiteOpened,
    StaffMemberOnboarded,
    SurveyAnswered,
    SurveyReminderSent,
    SurveySent,
    SynthesisDelivered,
    TrainingNeedIdentified,
    WorkingDocumentsDestroyed,
    format_utc,
)
from tests.unit.contracts.examples import example, example_data, example_id
from tests.unit.contracts.fieldtypes import annotation, fields_of_kind, is_nullable, kind

Pair = tuple[type[IntegrationEvent], str]


def _ids(value: object) -> str:
    if isinstance(value, type):
        return value.__name__
    return str(value)


def each(pairs: list[Pair]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(
        ("cls", "name"), pairs, ids=[f"{cls.__name__}.{name}" for cls, name in pairs]
    )


def assert_rejected(cls: type[IntegrationEvent], data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        cls.model_validate(data)
    try:
        text = json.dumps(data)
    except (TypeError, ValueError):
        return  # not representable in JSON (a datetime object): the dict case is enough
    with pytest.raises(ValidationError):
        cls.model_validate_json(text)


def assert_accepted(cls: type[IntegrationEvent], data: dict[str, Any]) -> None:
    cls.model_validate(data)
    cls.model_validate_json(json.dumps(data))


def spoil(cls: type[IntegrationEvent], **changes: Any) -> dict[str, Any]:
    return {**example_data(cls), **changes}


ALL_FIELDS: list[Pair] = [(cls, name) for cls in EVENT_TYPES.values() for name in cls.model_fields]
REQUIRED_FIELDS = [(cls, name) for cls, name in ALL_FIELDS if name not in cls.optional_fields()]
NOT_NULLABLE = [(cls, name) for cls, name in ALL_FIELDS if not is_nullable(annotation(cls, name))]
LIST_FIELDS = fields_of_kind("list")
NON_EMPTY_LISTS: set[Pair] = {
    (ConventionDrafted, "required_parties"),
    (RetentionAgreed, "document_classes"),
    (WorkingDocumentsDestroyed, "document_classes"),
    (StaffMemberOnboarded, "roles"),
    (StaffMemberOnboarded, "site_ids"),
}

# --- Shape --------------------------------------------------------------------------------


@each(REQUIRED_FIELDS)
def test_missing_field(cls: type[IntegrationEvent], name: str) -> None:
    data = example_data(cls)
    del data[name]
    assert_rejected(cls, data)


def test_only_the_v1_1_additions_are_optional() -> None:
    optional = {(cls.event_name, name) for cls, name in ALL_FIELDS} - {
        (cls.event_name, name) for cls, name in REQUIRED_FIELDS
    }
    assert optional == {("ConventionSignedByParty", "method"), ("SurveySent", "session_id")}


@each(NOT_NULLABLE)
def test_null_where_the_contract_does_not_allow_it(cls: type[IntegrationEvent], name: str) -> None:
    assert_rejected(cls, spoil(cls, **{name: None}))


@pytest.mark.parametrize("cls", list(EVENT_TYPES.values()), ids=_ids)
@pytest.mark.parametrize("extra", ["unexpected", "ce_id", "beneficiary_name", "dossierId"])
def test_extra_field(cls: type[IntegrationEvent], extra: str) -> None:
    assert_rejected(cls, spoil(cls, **{extra: "x"}))


# --- Times --------------------------------------------------------------------------------

NOT_RFC3339 = [
    "2025-03-03T09:00:00",  # naive
    datetime(2025, 3, 3, 9, 0),  # naive object
    1741000000,  # Unix seconds
    1741000000000,  # Unix milliseconds
    "1741000000",
    1741000000.5,
    "2025-03-03",  # a date
    "2025-03-03T09:00Z",  # no seconds
    "2025-03-03 09:00:00Z",  # space instead of T
    "03/03/2025 09:00",
    "\uff12\uff10\uff12\uff15-03-03T09:00:00Z",  # full-width digits
    "",
    True,
]


@each(fields_of_kind("time"))
@pytest.mark.parametrize("value", NOT_RFC3339, ids=repr)
def test_time_must_be_rfc3339_with_timezone(
    cls: type[IntegrationEvent], name: str, value: object
) -> None:
    assert_rejected(cls, spoil(cls, **{name: value}))


def test_offsets_are_accepted_and_converted() -> None:
    event = example(SessionHeld, started_at="2025-03-11T10:03:00.5+01:00")
    assert event.to_json_dict()["started_at"] == "2025-03-11T09:03:00.500000Z"


# --- Ids ----------------------------------------------------------------------------------


@each(fields_of_kind("id"))
@pytest.mark.parametrize("value", ["not-a-uuid", "", 12345, True], ids=repr)
def test_id_must_be_a_uuid(cls: type[IntegrationEvent], name: str, value: object) -> None:
    assert_rejected(cls, spoil(cls, **{name: value}))


# --- Closed lists -------------------------------------------------------------------------


@each(fields_of_kind("closed"))
def test_unknown_closed_value(cls: type[IntegrationEvent], name: str) -> None:
    assert_rejected(cls, spoil(cls, **{name: "not_in_the_list"}))


@each(fields_of_kind("closed"))
def test_closed_values_are_case_sensitive(cls: type[IntegrationEvent], name: str) -> None:
    value = example_data(cls)[name]
    assert_rejected(cls, spoil(cls, **{name: value.upper()}))
    assert_rejected(cls, spoil(cls, **{name: value.replace("_", "-") + " "}))


@each([(cls, name) for cls, name in LIST_FIELDS if name not in {"site_ids", "habilitations"}])
def test_unknown_closed_value_in_a_list(cls: type[IntegrationEvent], name: str) -> None:
    value = example_data(cls)[name]
    assert_rejected(cls, spoil(cls, **{name: [*value, "not_in_the_list"]}))


# --- Lists --------------------------------------------------------------------------------


@each(LIST_FIELDS)
def test_duplicates_in_a_list(cls: type[IntegrationEvent], name: str) -> None:
    value = example_data(cls)[name]
    assert value, "the example must have at least one item"
    assert_rejected(cls, spoil(cls, **{name: [*value, value[0]]}))


def test_duplicate_ids_are_found_whatever_their_spelling() -> None:
    site = example_id("site")
    data = spoil(StaffMemberOnboarded, site_ids=[str(site), str(site).upper()])
    assert_rejected(StaffMemberOnboarded, data)


@each(sorted(NON_EMPTY_LISTS, key=lambda pair: (pair[0].__name__, pair[1])))
def test_empty_list_where_one_value_is_needed(cls: type[IntegrationEvent], name: str) -> None:
    assert_rejected(cls, spoil(cls, **{name: []}))


def test_no_habilitation_is_fine() -> None:
    assert_accepted(QualificationRecorded, spoil(QualificationRecorded, habilitations=[]))


@each(LIST_FIELDS)
def test_a_single_value_is_not_a_list(cls: type[IntegrationEvent], name: str) -> None:
    assert_rejected(cls, spoil(cls, **{name: example_data(cls)[name][0]}))


def test_lists_covered() -> None:
    assert {name for _, name in LIST_FIELDS} == {
        "required_parties",
        "document_classes",
        "roles",
        "site_ids",
        "habilitations",
    }
    assert set(LIST_FIELDS) >= NON_EMPTY_LISTS


# --- Numbers and booleans -----------------------------------------------------------------


@each(fields_of_kind("int"))
def test_int_not_coerced(cls: type[IntegrationEvent], name: str) -> None:
    value = example_data(cls)[name]
    for wrong in (str(value), "5", float(value), value + 0.5, True, [value]):
        assert_rejected(cls, spoil(cls, **{name: wrong}))


@each(fields_of_kind("float"))
def test_number_not_coerced(cls: type[IntegrationEvent], name: str) -> None:
    for wrong in ("7.5", "7", True, float("nan"), float("inf"), -0.5):
        assert_rejected(cls, spoil(cls, **{name: wrong}))


@each(fields_of_kind("float"))
def test_number_accepts_json_integers(cls: type[IntegrationEvent], name: str) -> None:
    event = example(cls, **{name: 7})
    assert getattr(event, name) == 7.0
    assert_accepted(cls, spoil(cls, **{name: 0}))


@each(fields_of_kind("bool"))
def test_bool_not_coerced(cls: type[IntegrationEvent], name: str) -> None:
    for wrong in ("true", "false", "True", 1, 0, "yes", "1"):
        assert_rejected(cls, spoil(cls, **{name: wrong}))


BOUNDS: list[tuple[type[IntegrationEvent], str, list[int], list[int]]] = [
    # event type, field, refused, accepted
    (PersonalisedProgrammeAgreed, "planned_minutes", [0, -1, 1441], [1, 1440]),
    (ConventionDrafted, "duration_minutes", [0, 1441], [1, 1440]),
    (ConventionDrafted, "price_cents", [-1], [0, 10**9]),
    (SynthesisDelivered, "synthesis_version", [0, -1], [1, 12]),
    (DossierCompleted, "held_minutes", [-1, 1441], [0, 1440]),
    (SessionScheduled, "planned_minutes", [0, 1441], [1, 1440]),
    (SessionHeld, "duration_minutes", [0, -5, 1441], [1, 1440]),
    (SurveySent, "questionnaire_version", [0], [1]),
    (SurveyReminderSent, "reminder_number", [0, -1], [1, 3]),
    (SurveyAnswered, "satisfaction_score", [0, 6, -1], [1, 5]),
]


@pytest.mark.parametrize(
    ("cls", "name", "refused", "accepted"),
    BOUNDS,
    ids=[f"{cls.__name__}.{name}" for cls, name, _, _ in BOUNDS],
)
def test_integer_bounds(
    cls: type[IntegrationEvent], name: str, refused: list[int], accepted: list[int]
) -> None:
    for value in refused:
        assert_rejected(cls, spoil(cls, **{name: value}))
    for value in accepted:
        assert_accepted(cls, spoil(cls, **{name: value}))


def test_every_int_field_has_its_bounds_tested() -> None:
    tested = {(cls, name) for cls, name, _, _ in BOUNDS}
    assert set(fields_of_kind("int")) - tested == {
        (cls, name)
        for cls, name in fields_of_kind("int")
        if name == "notice_version"  # same Version type as synthesis_version
    }


def test_notice_hours_and_training_hours() -> None:
    assert_accepted(SessionCancelled, spoil(SessionCancelled, notice_hours=0.25))
    assert_accepted(ContinuousTrainingCompleted, spoil(ContinuousTrainingCompleted, hours=3.5))


# --- Survey scores ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scores",
    [
        {"welcome": 11},
        {"welcome": -1},
        {"welcome": "9"},
        {"welcome": 9.0},
        {"welcome": True},
        {"welcome": None},
        {"Welcome": 9},
        {"welcome-desk": 9},
        {"1st_question": 9},
        {"": 9},
        {"q" * 65: 9},
        ["welcome", 9],
    ],
    ids=repr,
)
def test_bad_scores(scores: object) -> None:
    assert_rejected(SurveyAnswered, spoil(SurveyAnswered, scores=scores))


def test_scores_may_be_empty_and_span_0_to_10() -> None:
    assert_accepted(SurveyAnswered, spoil(SurveyAnswered, scores={}))
    assert_accepted(SurveyAnswered, spoil(SurveyAnswered, scores={"a": 0, "b_2": 10}))


# --- Codes and labels ---------------------------------------------------------------------

CODE_FIELDS: list[tuple[type[IntegrationEvent], str]] = [
    (AssessmentAdministered, "required_habilitation"),
    (QualificationRecorded, "qualification"),
    (ContinuousTrainingCompleted, "title_code"),
]
BAD_CODES = ["Psychometric_Tests", "psychometric tests", "1st_level", "_x", "", "a" * 65, "é", 7]


@each(CODE_FIELDS)
@pytest.mark.parametrize("value", BAD_CODES, ids=repr)
def test_bad_code(cls: type[IntegrationEvent], name: str, value: object) -> None:
    assert_rejected(cls, spoil(cls, **{name: value}))


@pytest.mark.parametrize("value", BAD_CODES, ids=repr)
def test_bad_habilitation_in_a_list(value: object) -> None:
    assert_rejected(QualificationRecorded, spoil(QualificationRecorded, habilitations=[value]))


def test_assessment_without_habilitation() -> None:
    assert_accepted(
        AssessmentAdministered, spoil(AssessmentAdministered, required_habilitation=None)
    )


@pytest.mark.parametrize(
    "value", ["rncp35185", "RNCP", "RS", "RNCP 35185", "RNCP35185a", "RNCP\u0663\u0665", 35185]
)
def test_bad_certification_code(value: object) -> None:
    assert_rejected(TrainingNeedIdentified, spoil(TrainingNeedIdentified, certification_code=value))


@pytest.mark.parametrize("value", ["RNCP35185", "RS5641", None])
def test_certification_code(value: str | None) -> None:
    assert_accepted(TrainingNeedIdentified, spoil(TrainingNeedIdentified, certification_code=value))


@pytest.mark.parametrize("value", ["Art17_3_b", "art 17", "art17-3-b", "", 17])
def test_bad_legal_ground(value: object) -> None:
    assert_rejected(DataSubjectRequestRefused, spoil(DataSubjectRequestRefused, legal_ground=value))


@pytest.mark.parametrize("name", ["name", "region"])
@pytest.mark.parametrize("value", ["", "   ", "x" * 201, 42], ids=repr)
def test_bad_site_label(name: str, value: object) -> None:
    assert_rejected(SiteOpened, spoil(SiteOpened, **{name: value}))


def test_site_label_of_200_characters() -> None:
    assert_accepted(SiteOpened, spoil(SiteOpened, name="x" * 200))


# --- Invariants within one event ----------------------------------------------------------


def test_retention_expires_after_agreement() -> None:
    agreed = example(RetentionAgreed).agreed_at
    for expires in (agreed, agreed - timedelta(seconds=1)):
        assert_rejected(RetentionAgreed, spoil(RetentionAgreed, expires_at=format_utc(expires)))


def test_data_subject_request_due_after_receipt() -> None:
    received = example(DataSubjectRequestReceived).received_at
    for due in (received, received - timedelta(days=1)):
        assert_rejected(
            DataSubjectRequestReceived, spoil(DataSubjectRequestReceived, due_at=format_utc(due))
        )


def test_survey_expires_after_sending() -> None:
    sent = example(SurveySent).sent_at
    for expires in (sent, sent - timedelta(hours=1)):
        assert_rejected(SurveySent, spoil(SurveySent, expires_at=format_utc(expires)))


def test_rescheduling_changes_the_start() -> None:
    data = example_data(SessionRescheduled)
    assert_rejected(SessionRescheduled, {**data, "starts_at": data["previous_starts_at"]})
    # The same instant written with another offset is the same start.
    same = "2025-03-10T10:00:00+01:00"
    assert_rejected(
        SessionRescheduled,
        {**data, "starts_at": same, "previous_starts_at": "2025-03-10T09:00:00Z"},
    )


def test_room_exactly_when_not_remote() -> None:
    data = example_data(SessionScheduled)
    assert data["modality"] == "in_person"
    assert data["room_id"] is not None
    assert_rejected(SessionScheduled, {**data, "room_id": None})
    assert_rejected(SessionScheduled, {**data, "modality": "remote"})
    assert_accepted(SessionScheduled, {**data, "modality": "remote", "room_id": None})


def test_refusal_not_before_the_deadline() -> None:
    deadline = example(ConventionDeemedRefused).acceptance_deadline
    assert_rejected(
        ConventionDeemedRefused,
        spoil(ConventionDeemedRefused, refused_at=format_utc(deadline - timedelta(seconds=1))),
    )
    assert_accepted(
        ConventionDeemedRefused, spoil(ConventionDeemedRefused, refused_at=format_utc(deadline))
    )


def test_previous_consultant_exactly_when_not_initial() -> None:
    data = example_data(ReferentConsultantAssigned)
    assert data["reason"] == "initial"
    assert data["previous_consultant_id"] is None
    previous = str(example_id("previous consultant"))
    assert_rejected(ReferentConsultantAssigned, {**data, "previous_consultant_id": previous})
    assert_rejected(ReferentConsultantAssigned, {**data, "reason": "unavailability"})
    assert_accepted(
        ReferentConsultantAssigned,
        {**data, "reason": "unavailability", "previous_consultant_id": previous},
    )


@pytest.mark.parametrize("cls", [SurveySent, SurveyAnswered], ids=_ids)
def test_dossier_exactly_when_not_stakeholder(cls: type[IntegrationEvent]) -> None:
    data = example_data(cls)
    assert data["campaign"] != "stakeholder"
    assert_rejected(cls, {**data, "dossier_id": None})
    assert_rejected(cls, {**data, "campaign": "stakeholder"})
    stakeholder = {**data, "campaign": "stakeholder", "dossier_id": None}
    if cls is SurveySent:
        stakeholder["respondent_role"] = "employer"
    assert_accepted(cls, stakeholder)


def test_every_field_kind_is_known() -> None:
    kinds = {kind(cls, name) for cls, name in ALL_FIELDS}
    assert kinds == {"id", "time", "closed", "int", "float", "bool", "text", "list", "dict"}
