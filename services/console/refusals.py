"""A service's refusal of a form, said next to the field it is about.

The staff forms post to the services as the signed-in person; when a service refuses (a 409
or a 422 problem document), the page is shown again with the values typed and, beside the
field the refusal names, a sentence in French. Which field a code is about is the form's
business (`fields`); a 422 of the request's schema names its field in `errors[].loc`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.console.backend import Reply
from services.console.i18n import PARIS
from services.console.vocabulary import N_

REFUSED = (409, 412, 422, 428)
"""The statuses a form shows next to a field; 403/404 stay the console's own pages."""
FORM = "form"
"""The key of a refusal about the whole form (shown above its button)."""
CHANGED = N_("Someone changed this record meanwhile: check it and try again.")
NOT_ACCEPTED = N_("This value is not accepted.")


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    code: str
    fields: tuple[str, ...]
    """The request's fields a schema refusal names (innermost last), if any."""


def refusal_of(reply: Reply) -> Refusal:
    body = reply.body if isinstance(reply.body, dict) else {}
    fields: tuple[str, ...] = ()
    for error in body.get("errors") or ():
        loc = [str(x) for x in error.get("loc", ()) if str(x) != "body"]
        if loc:
            fields = tuple(loc)
            break
    return Refusal(reply.status, str(body.get("code", "error")), fields)


def place(
    refused: Refusal,
    by_code: Mapping[str, tuple[str, str]],
    by_field: Mapping[str, tuple[str, str]],
) -> dict[str, str]:
    """The `{field: message}` of a refusal: by its code first, then by the schema's field
    (the innermost named field that the form knows), else about the whole form."""
    if refused.code in by_code:
        field, message = by_code[refused.code]
        return {field: message}
    for name in reversed(refused.fields):
        if name in by_field:
            field, message = by_field[name]
            return {field: message}
    if refused.code in ("concurrency_conflict", "precondition_failed"):
        return {FORM: CHANGED}
    if refused.status == 412:
        return {FORM: CHANGED}
    return {FORM: NOT_ACCEPTED}


def business_time(value: str, now: datetime) -> str | None:
    """A day typed in a form (`YYYY-MM-DD`) as the RFC 3339 time the services take: 09:00 in
    Paris, or now when that is later today (a fact is recorded once it has happened)."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    moment = datetime.combine(day, time(9, 0), PARIS)
    if moment.date() == now.astimezone(PARIS).date() and moment > now:
        moment = now - timedelta(seconds=1)
    return moment.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


def today(now: datetime) -> str:
    return now.astimezone(PARIS).date().isoformat()


def step_time(value: str, now: datetime) -> tuple[bool, str | None]:
    """A day typed for a step the service may date itself: today is left out (the service's
    own now, so that steps of the same day keep their order), another day is its 09:00 in
    Paris. `(False, None)` when the day is not one."""
    if value.strip() == today(now):
        return True, None
    moment = business_time(value, now)
    return moment is not None, moment
