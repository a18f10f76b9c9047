"""The staff's step forms without I/O: a posted form becomes a command's body, a service's
problem document becomes errors beside the fields it is about, in French."""

from __future__ import annotations

import re

import pytest
from starlette.datastructures import FormData

from services.console.routes.staff_steps_sessions import _fits
from services.console.staff_forms import (
    FORM_ERROR,
    Field,
    Form,
    error_words,
    euros_to_cents,
    hours_to_minutes,
    missing_items,
    paris_date,
    paris_moment,
    problem_errors,
    read_form,
)

PROGRAMME = Form(
    "programme",
    "Personalised programme",
    "Record",
    (
        Field("planned_hours", "Planned duration (hours)", "hours", api="planned_minutes"),
        Field("modality", "Format", "radios", (("mixed", "Mixed"),)),
    ),
)
RETENTION = Form(
    "accord",
    "Retention",
    "Record",
    (
        Field("document_classes", "Documents kept", "checkboxes"),
        Field("justification", "Why", "select"),
        Field("expires_at", "Kept until", "date"),
        Field("notes", "Notes", "textarea", required=False),
        Field("urgent", "Urgent", "checkbox", required=False),
    ),
)


@pytest.mark.parametrize(
    ("text", "minutes"), [("20", 1200), ("7,5", 450), ("18.5", 1110), (" 1 ", 60)]
)
def test_hours_become_minutes(text: str, minutes: int) -> None:
    assert hours_to_minutes(text) == minutes


@pytest.mark.parametrize(
    ("text", "cents"),
    [("1 800,00", 180000), ("1\u202f800,50 €", 180050), ("1800", 180000), ("0", 0)],
)
def test_french_amounts_become_cents(text: str, cents: int) -> None:
    assert euros_to_cents(text) == cents


@pytest.mark.parametrize("text", ["douze", "1,005", "1 800,00 $", ""])
def test_what_is_not_an_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        euros_to_cents(text)


def test_dates_and_times_are_read_in_paris_time() -> None:
    assert paris_date("2026-12-01") == "2026-12-01T00:00:00+01:00"
    assert paris_moment("2026-07-07T15:00") == "2026-07-07T15:00:00+02:00"


def test_a_programme_form_becomes_the_api_body() -> None:
    posted = read_form(PROGRAMME, FormData([("planned_hours", "20"), ("modality", "mixed")]))
    assert posted.body == {"planned_minutes": 1200, "modality": "mixed"}
    assert posted.errors == {}


def test_a_number_that_is_not_one_is_an_error_beside_its_field_and_no_body() -> None:
    posted = read_form(PROGRAMME, FormData([("planned_hours", "vingt"), ("modality", "mixed")]))
    assert posted.errors == {"planned_hours": "not_a_hours"}
    assert "planned_minutes" not in posted.body
    assert posted.values["planned_hours"] == "vingt"  # shown back as typed
    assert read_form(PROGRAMME, FormData([])).errors == {"planned_hours": "required"}


def test_empty_required_text_is_sent_for_the_service_to_refuse_and_optional_is_left_out() -> None:
    posted = read_form(
        RETENTION,
        FormData(
            [
                ("document_classes", "synthesis"),
                ("document_classes", "working_documents"),
                ("expires_at", "2027-01-15"),
                ("urgent", "yes"),
            ]
        ),
    )
    assert posted.body == {
        "document_classes": ["synthesis", "working_documents"],
        "justification": "",
        "expires_at": "2027-01-15T00:00:00+01:00",
        "urgent": True,
    }


def test_a_schema_refusal_names_the_field_by_its_api_key() -> None:
    problem = {
        "code": "invalid_request",
        "errors": [
            {"loc": ["body", "planned_minutes"], "type": "less_than_equal", "msg": "…"},
            {"loc": ["body", "modality"], "type": "missing", "msg": "…"},
        ],
    }
    assert problem_errors(problem, PROGRAMME) == {
        "planned_hours": "invalid",
        "modality": "required",
    }


def test_a_value_left_empty_that_the_schema_refused_is_said_to_be_required() -> None:
    problem = {
        "code": "invalid_request",
        "errors": [{"loc": ["body", "modality"], "type": "literal_error", "msg": "…"}],
    }
    assert problem_errors(problem, PROGRAMME, values={"modality": ""}) == {"modality": "required"}
    assert problem_errors(problem, PROGRAMME, values={"modality": "x"}) == {"modality": "invalid"}


def test_a_schema_refusal_of_an_unknown_key_is_about_the_whole_form() -> None:
    problem = {"code": "invalid_request", "errors": [{"loc": ["body"], "type": "json_invalid"}]}
    assert problem_errors(problem, PROGRAMME) == {FORM_ERROR: "invalid_request"}
    assert problem_errors({"code": "invalid_request"}, PROGRAMME) == {FORM_ERROR: "invalid_request"}


def test_a_rule_refusal_goes_to_its_field_or_to_the_form() -> None:
    fields = {"retention_too_long": "expires_at", "lost": "no_such_field"}
    assert problem_errors({"code": "retention_too_long"}, RETENTION, fields) == {
        "expires_at": "retention_too_long"
    }
    assert problem_errors({"code": "lost"}, RETENTION, fields) == {FORM_ERROR: "lost"}
    assert problem_errors({"code": "dossier_ended"}, RETENTION, fields) == {
        FORM_ERROR: "dossier_ended"
    }
    assert problem_errors("not json", RETENTION) == {FORM_ERROR: "refused"}


def test_errors_are_french_words_with_what_is_missing() -> None:
    detail = "the preliminary phase cannot start yet; missing: convention_signed, referent_assigned"
    assert missing_items(detail) == ["convention_signed", "referent_assigned"]
    words = error_words("phase_order", detail)
    assert words == (
        "Cette phase ne peut pas encore commencer ; il manque : la convention signée, un référent"
    )
    assert error_words("invalid") == "Cette valeur n'est pas acceptée : vérifiez-la."
    assert error_words("a_code_nobody_knows") == "Le service a refusé cette action."


def test_a_session_must_lie_within_a_free_slot() -> None:
    slots = [{"starts_at": "2026-03-10T08:00:00Z", "ends_at": "2026-03-10T11:00:00Z"}]
    assert _fits(slots, "2026-03-10T08:00:00+00:00", 180)
    assert _fits(slots, "2026-03-10T10:00:00+01:00", 60)
    assert not _fits(slots, "2026-03-10T09:30:00+00:00", 120)
    assert not _fits(slots, "2026-03-10T01:00:00+00:00", 60)
