"""The staff's step forms, as data: what each field is, how a posted form becomes a command's
body, and how a service's refusal becomes an error beside the field it is about. Pure
functions (no I/O), tested on their own; the routes (`routes/staff_steps*.py`) call the
services with what these build.

The console checks only what it must to build a body (a number that is not one, a date that
is not one); every rule stays in the services, whose refusals are shown beside their field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from services.console.i18n import PARIS, _
from services.console.vocabulary import N_

FieldKind = Literal[
    "text", "textarea", "select", "radios", "checkbox", "checkboxes", "number", "hours",
    "euros", "date", "datetime", "hidden",
]  # fmt: skip
FORM_ERROR = "_form"
"""The key of an error about the whole form (shown above its button)."""


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    """The form field's name, and the body's key unless `api` says otherwise."""
    label: str
    kind: FieldKind = "text"
    choices: tuple[tuple[str, str], ...] = ()
    """(value, label msgid) of a select, radios or checkboxes."""
    required: bool = True
    hint: str | None = None
    api: str | None = None
    rows: int = 4
    default: str = ""
    """Shown in a fresh form (never sent unless the person leaves it)."""

    @property
    def key(self) -> str:
        return self.api or self.name


@dataclass(frozen=True, slots=True)
class Form:
    action: str
    """The last part of the path the form posts to."""
    title: str
    submit: str
    fields: tuple[Field, ...] = ()
    hidden: Mapping[str, str] = field(default_factory=dict)
    """Values the form carries unseen (the session or the phase it acts on)."""
    secondary: bool = False
    intro: str | None = None

    @property
    def id(self) -> str:
        """Unique on its page: the action, and what it acts on when several forms share one."""
        target = self.hidden.get("target")
        return f"{self.action}-{target}" if target else self.action

    def defaults(self) -> dict[str, str]:
        return {f.name: f.default for f in self.fields if f.default}

    def field_named(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


# --- posted form -> body ---------------------------------------------------------------------


def _number(text: str) -> Decimal:
    """A French or English number: « 1 800,50 », « 1800.5 », « 20 »."""
    cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text).replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        raise InvalidOperation(text)
    return Decimal(cleaned)


def hours_to_minutes(text: str) -> int:
    """« 20 » or « 7,5 » hours as minutes; ValueError when it is not a number."""
    try:
        return int(_number(text) * 60)
    except InvalidOperation:
        raise ValueError(text) from None


def euros_to_cents(text: str) -> int:
    """« 1 800,00 » euros as cents; ValueError when it is not an amount."""
    try:
        value = _number(text) * 100
    except InvalidOperation:
        raise ValueError(text) from None
    if value != value.to_integral_value():
        raise ValueError(text)
    return int(value)


def paris_date(text: str) -> str:
    """A day (« 2026-12-01 ») as the start of that day in Paris, RFC 3339 in UTC."""
    day = date.fromisoformat(text)
    return datetime.combine(day, time(0, 0), PARIS).astimezone(PARIS).isoformat()


def paris_moment(text: str) -> str:
    """A datetime-local value (« 2026-03-10T09:30 ») read in Paris time, RFC 3339."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.isoformat()


@dataclass(frozen=True, slots=True)
class Posted:
    body: dict[str, Any]
    values: dict[str, Any]
    """What to show back in the form when it is refused."""
    errors: dict[str, str]


def read_form(form: Form, data: Mapping[str, Any]) -> Posted:
    """The command's body from the posted form. Empty optional fields are left out; empty
    required ones are sent as empty, for the service to refuse beside their field."""
    body: dict[str, Any] = {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in form.fields:
        if f.kind == "checkboxes":
            chosen = _all(data, f.name)
            values[f.name] = chosen
            body[f.key] = chosen
            continue
        if f.kind == "checkbox":
            ticked = str(data.get(f.name, "")) == "yes"
            values[f.name] = "yes" if ticked else ""
            body[f.key] = ticked
            continue
        text = str(data.get(f.name, "")).strip()
        values[f.name] = text
        if not text:
            if f.required and f.kind in ("number", "hours", "euros", "date", "datetime"):
                errors[f.name] = "required"
            elif f.required:
                body[f.key] = ""
            continue
        try:
            body[f.key] = _convert(f.kind, text)
        except ValueError:
            errors[f.name] = f"not_a_{f.kind}"
    return Posted(body, values, errors)


def _all(data: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(data, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    found = data.get(name, [])
    return [str(v) for v in (found if isinstance(found, list) else [found])]


def _convert(kind: FieldKind, text: str) -> Any:
    if kind == "number":
        return int(text)
    if kind == "hours":
        return hours_to_minutes(text)
    if kind == "euros":
        return euros_to_cents(text)
    if kind == "date":
        return paris_date(text)
    if kind == "datetime":
        return paris_moment(text)
    return text


# --- a service's refusal -> errors beside fields -------------------------------------------


def problem_errors(
    body: Any,
    form: Form,
    refusal_fields: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Errors by form field from a service's problem document: a schema refusal names the
    body's keys (`errors[].loc`), a rule's refusal its `code` (placed by `refusal_fields`,
    else on the whole form). A value the schema refused that was left empty (`values`, as
    posted) is said to be required."""
    problem = body if isinstance(body, dict) else {}
    code = str(problem.get("code") or "refused")
    by_key = {f.key: f.name for f in form.fields}
    found: dict[str, str] = {}
    if code == "invalid_request":
        for error in problem.get("errors") or []:
            loc = [str(x) for x in error.get("loc") or []]
            name = next((by_key[part] for part in loc[1:] if part in by_key), None)
            kind = "required" if error.get("type") in ("missing", "string_too_short") else "invalid"
            if name is not None and (values or {}).get(name) in ("", []):
                kind = "required"
            if name is not None:
                found.setdefault(name, kind)
            else:
                found.setdefault(FORM_ERROR, "invalid_request")
        return found or {FORM_ERROR: "invalid_request"}
    target = (refusal_fields or {}).get(code, FORM_ERROR)
    if target != FORM_ERROR and form.field_named(target) is None:
        target = FORM_ERROR
    return {target: code}


MESSAGES: dict[str, str] = {
    "required": N_("This field is required."),
    "invalid": N_("This value is not accepted: check it."),
    "not_a_number": N_("Write a whole number."),
    "not_a_hours": N_("Write a number of hours, e.g. 20 or 7,5."),
    "not_a_euros": N_("Write an amount in euros, e.g. 1 800,00."),
    "not_a_date": N_("Write a date."),
    "not_a_datetime": N_("Write a date and a time."),
    "invalid_request": N_("The form is incomplete or a value is not accepted."),
    "concurrency_conflict": N_(
        "The dossier changed while you were filling in this form: check it and send again."
    ),
    "refused": N_("The service refused this action."),
    "time_in_future": N_("A fact cannot be dated in the future."),
    "time_order": N_("This date comes before a step it must follow."),
    "dossier_ended": N_("The dossier has ended: nothing more can be recorded."),
    "processing_restricted": N_(
        "The beneficiary restricted the processing of their data: only storage until lifted."
    ),
    "already_acknowledged": N_("The beneficiary already acknowledged this notice."),
    "unknown_notice_version": N_("This notice version is unknown."),
    "planned_minutes_out_of_range": N_("The planned duration is between 1 minute and 24 hours."),
    "duration_out_of_range": N_("The duration is between 1 minute and 24 hours."),
    "mandatory_mentions_missing": N_("Every mandatory mention of the convention is needed."),
    "negative_price": N_("The price cannot be negative."),
    "convention_exists": N_("A convention is already in progress for this dossier."),
    "convention_not_draft": N_("This convention was already sent."),
    "convention_not_found": N_("No such convention."),
    "convention_not_awaiting_signature": N_("The convention is not awaiting signatures."),
    "convention_not_signed": N_("The convention is not signed yet."),
    "referent_not_eligible": N_(
        "The referent must be an active consultant or psychologist of the dossier's site "
        "(a new member is known a few seconds after onboarding)."
    ),
    "already_referent": N_("This person is already the referent."),
    "first_assignment_is_initial": N_("The first assignment has the reason « initial »."),
    "change_needs_reason": N_("A change of referent needs its reason (not « initial »)."),
    "phase_order": N_("This phase cannot start yet: {detail}"),
    "phase_already_started": N_("This phase has already started."),
    "phase_already_completed": N_("This phase is already completed."),
    "phase_not_started": N_("This phase has not started."),
    "phase_not_reached": N_("The dossier has not reached the phase this needs."),
    "phase_passed": N_("The phase this needs is over."),
    "unknown_instrument": N_("Choose an instrument of the catalogue."),
    "administrator_not_eligible": N_(
        "Assessments are given by an active consultant or psychologist of the site."
    ),
    "habilitation_required": N_(
        "This instrument requires a habilitation you do not hold: a habilitated colleague gives it."
    ),
    "results_already_handed_over": N_("The detailed results were already handed over."),
    "no_synthesis_draft": N_("Save a draft of the synthesis first."),
    "synthesis_already_delivered": N_("The synthesis was already delivered."),
    "completion_requirements_missing": N_("The bilan cannot be completed yet: {detail}"),
    "retention_exists": N_("A retention agreement is already recorded."),
    "retention_too_long": N_("Documents are kept one year at most after the end."),
    "retention_expiry_in_past": N_("The end of retention must be in the future."),
    "bad_document_classes": N_("Choose the documents to keep."),
    "dossier_not_ended": N_("Retention is agreed once the bilan has ended."),
    "written_consent_required": N_("The beneficiary's written agreement is required."),
    "paper_document_required": N_("The scanned signed document is required."),
    # scheduling
    "consultant_double_booked": N_(
        "The consultant already has a session then: choose a free slot."
    ),
    "room_double_booked": N_("The room is taken then: choose another room or slot."),
    "start_in_past": N_("A session is booked in the future."),
    "room_required": N_("An in-person session needs a room of the site."),
    "room_for_remote": N_("A remote session takes no room."),
    "room_unknown": N_("No such room."),
    "room_other_site": N_("The room is not at the dossier's site."),
    "room_not_confidential": N_("This room does not keep an interview confidential."),
    "no_referent": N_("The dossier has no referent yet."),
    "consultant_unknown": N_(
        "The consultant is not known to the schedule yet (a few seconds after onboarding)."
    ),
    "consultant_other_site": N_("The consultant does not work at the dossier's site."),
    "not_your_dossier": N_("You schedule your own sessions or those of dossiers you refer."),
    "dossier_not_found": N_(
        "The schedule does not know this dossier yet: wait a few seconds and send again."
    ),
    "convention_refused": N_("The convention was deemed refused: no bilan session."),
    "duration_cap_exceeded": N_("A bilan lasts 24 hours at most: this session goes beyond."),
    "not_a_consultant": N_("Only a consultant or a psychologist leads a session."),
    "not_qualified": N_("The leader holds no habilitation for assessments."),
    "habilitation_missing": N_("The leader does not hold this habilitation."),
    "session_not_started": N_("A no-show is recorded once the session has started."),
    "held_in_future": N_("A session is recorded as held once it has started."),
    "session_not_scheduled": N_("This session is no longer planned."),
    "session_not_held": N_("Attendance is signed for a session that was held."),
    "already_signed": N_("Already signed."),
    "not_the_signer": N_("Only the session's consultant signs for that role."),
    "same_start": N_("The session already starts then."),
    "choose_slot": N_("Choose one of the free slots offered."),
}
"""Each code's words (msgids; French in the catalogue). `{detail}` takes the service's own
list of what is missing, turned into words by `missing_words`."""

MISSING: dict[str, str] = {
    "convention_signed": N_("the signed convention"),
    "deontology_acknowledged": N_("the acknowledged deontology notice"),
    "referent_assigned": N_("a referent"),
    "phase_completed_preliminary": N_("the completed preliminary phase"),
    "needs_analysis_recorded": N_("the needs analysis"),
    "programme_agreed": N_("the agreed programme"),
    "phase_completed_investigation": N_("the completed investigation phase"),
    "phase_completed_conclusion": N_("the completed conclusion phase"),
    "synthesis_delivered": N_("the delivered synthesis"),
    "detailed_results_handed_over": N_("the detailed results handed over"),
}


def missing_items(detail: str) -> list[str]:
    """The codes after « missing: » in a service's detail (phase order, completion)."""
    _, found, rest = detail.partition("missing: ")
    if not found:
        return []
    return [x.strip() for x in rest.split(",") if x.strip() in MISSING]


def message_for(code: str) -> str:
    return MESSAGES.get(code, MESSAGES["refused"])


def error_words(code: str, detail: str = "") -> str:
    """The French words of an error, with what is missing when the service listed it."""
    words = _(message_for(code))
    if "{detail}" in words:
        words = words.format(detail=", ".join(_(MISSING[m]) for m in missing_items(detail)))
    return words


def choices(values: Sequence[str], prefix: str) -> tuple[tuple[str, str], ...]:
    """(value, msgid) pairs whose msgids are `prefix:value` (listed in `vocabulary.py`)."""
    return tuple((v, f"{prefix}:{v}") for v in values)


WORDS = (
    # built in the staff's templates from the services' codes (`_("party:" ~ party)`)
    N_("referent_reason:initial"),
    N_("referent_reason:unavailability"),
    N_("referent_reason:beneficiary_request"),
    N_("referent_reason:other"),
    N_("modality:in_person"),
    N_("modality:remote"),
    N_("modality:mixed"),
    N_("convention:tripartite"),
    N_("convention:individual_contract"),
    N_("convention:cpf"),
    N_("convention:public_model"),
    N_("convention_status:drafted"),
    N_("convention_status:sent"),
    N_("convention_status:signed"),
    N_("convention_status:refused"),
    N_("convention_status:withdrawn"),
    N_("party:beneficiary"),
    N_("party:provider"),
    N_("party:employer"),
    N_("party:funder"),
    N_("habilitation:psychometric_tests"),
    N_("need:training"),
    N_("need:vae"),
    N_("document:synthesis"),
    N_("document:working_documents"),
    N_("retention:follow_up"),
    N_("retention:cep_transmission"),
    N_("follow_up:identified"),
    N_("follow_up:in_progress"),
    N_("follow_up:enrolled"),
    N_("follow_up:completed"),
    N_("follow_up:abandoned"),
    N_("no-show"),
    N_("attendance sheet"),
    N_("signed"),
    N_("done"),
)
"""Listed so that the catalogue's extraction finds them (`N_` marks without translating)."""
