"""A small client of the running system's public HTTP APIs, shared by `bilan demo` and the
end-to-end tests: tokens, `If-Match` on dossier commands, the development clocks kept in step,
bounded waits, and the local mail sink's Maildir.

It only speaks HTTP to the services and reads the Maildir: never a database or a topic.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Final

import httpx

from deploy.processes import MAIL_DIR
from deploy.tokens import dev_token

SERVICES: Final = {
    "dossier": "http://127.0.0.1:8001",
    "scheduling": "http://127.0.0.1:8002",
    "survey": "http://127.0.0.1:8003",
    "reporting": "http://127.0.0.1:8004",
}
CLOCKED: Final = ("dossier", "scheduling", "survey", "reporting")
"""The services whose development clock moves time for what the system does later."""

Headers = dict[str, str]
SURVEY_LINK: Final = re.compile(r"https?://\S+/public/surveys/([A-Za-z0-9_\-]+)")


class ApiError(RuntimeError):
    """A response other than the one expected, with its RFC 9457 problem if it had one."""

    def __init__(self, method: str, url: str, response: httpx.Response, expected: Iterable[int]):
        self.status = response.status_code
        self.code = _problem_code(response)
        super().__init__(
            f"{method} {url}: {response.status_code} (expected {sorted(expected)}): "
            f"{response.text[:500]}"
        )


def _problem_code(response: httpx.Response) -> str | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    body = response.json()
    return str(body.get("code")) if isinstance(body, dict) and body.get("code") else None


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait before retrying a 503 that says when to (None: do not retry)."""
    if response.status_code != 503:
        return None
    try:
        return min(max(float(response.headers["retry-after"]), 0.1), 10.0)
    except (KeyError, ValueError):
        return None


def wait_until(check: Callable[[], Any], what: str, timeout_s: float = 60.0) -> Any:
    """Poll `check` until it returns something truthy; that value, or TimeoutError naming
    `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s:.0f}s for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def bearer(roles: Sequence[str], sites: Sequence[str] = (), subject: str | None = None) -> Headers:
    """Authorization headers with a development token."""
    return {"Authorization": f"Bearer {dev_token(roles, sites, subject)}"}


@dataclass
class Mailbox:
    """The local mail sink's Maildir (`.data/mail`), read as a person would read their mail."""

    folder: Path = MAIL_DIR
    _seen: dict[str, tuple[float, str, EmailMessage]] = field(default_factory=dict)

    def messages_to(self, address: str) -> list[EmailMessage]:
        """Every message delivered to `address`, oldest first."""
        for path in (self.folder / "new").glob("*"):
            if path.name in self._seen:
                continue  # a delivered message never changes: parse each file once
            try:
                raw = path.read_bytes()
                stamp = path.stat().st_mtime
            except FileNotFoundError:  # moved to cur/ by a mail reader meanwhile
                continue
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self._seen[path.name] = (stamp, str(message.get("To", "")).lower(), message)
        wanted = address.lower()
        found = sorted(
            ((stamp, m) for stamp, to, m in self._seen.values() if wanted in to),
            key=lambda pair: pair[0],
        )
        return [m for _, m in found]

    def wait_for(
        self, address: str, subject_contains: str, count: int = 1, timeout_s: float = 60.0
    ) -> list[EmailMessage]:
        """The messages to `address` whose subject contains the text, once `count` arrived."""

        def arrived() -> list[EmailMessage] | None:
            matching = [
                m
                for m in self.messages_to(address)
                if subject_contains in str(m.get("Subject", ""))
            ]
            return matching if len(matching) >= count else None

        found: list[EmailMessage] = wait_until(
            arrived, f"{count} mail(s) '{subject_contains}' to {address}", timeout_s
        )
        return found


def body_text(message: EmailMessage) -> str:
    """The plain-text body of a message."""
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


def survey_token(message: EmailMessage) -> str:
    """The single-use answer token in a survey e-mail's link."""
    found = SURVEY_LINK.search(body_text(message))
    if found is None:
        raise ValueError("the e-mail carries no survey link")
    return found.group(1)


@dataclass
class BilanClient:
    """Calls the services; raises ApiError on any status other than the expected ones."""

    urls: dict[str, str] = field(default_factory=lambda: dict(SERVICES))
    timeout_s: float = 30.0
    retry_unavailable_s: float = 60.0
    _http: httpx.Client = field(init=False)
    admin: Headers = field(init=False)

    def __post_init__(self) -> None:
        self._http = httpx.Client(timeout=self.timeout_s)
        self.admin = bearer(["admin"], subject="admin")

    def close(self) -> None:
        self._http.close()

    def call(
        self,
        service: str,
        method: str,
        path: str,
        headers: Headers,
        body: dict[str, Any] | None = None,
        *,
        expect: int | Iterable[int] = (200, 201, 202, 204),
        version: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One request; `version` sends `If-Match`.

        A creating request (a POST without `If-Match`) carries an `Idempotency-Key`, so that
        it can be retried safely when its answer is lost (a timeout, a dropped connection):
        the service answers a retry with the first outcome. A 503 with `Retry-After` (the
        service's database is away) is waited out and retried, for at most
        `retry_unavailable_s`.
        """
        expected = {expect} if isinstance(expect, int) else set(expect)
        url = f"{self.urls[service]}{path}"
        if version is not None:
            headers = {**headers, "If-Match": f'"{version}"'}
        creating = method == "POST" and version is None
        if creating and "Idempotency-Key" not in headers:
            headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        deadline = time.monotonic() + self.retry_unavailable_s
        while True:
            try:
                response = self._http.request(
                    method, url, headers=headers, json=body, params=params
                )
            except httpx.TransportError:
                if not creating or time.monotonic() > deadline:
                    raise
                time.sleep(1.0)  # same key: a retry cannot create twice
                continue
            wait = _retry_after(response)
            if wait is None or time.monotonic() + wait > deadline:
                break
            time.sleep(wait)
        if response.status_code not in expected:
            raise ApiError(method, url, response, expected)
        return response

    def get(self, service: str, path: str, headers: Headers, **kw: Any) -> Any:
        """GET and decode the JSON body."""
        return self.call(service, "GET", path, headers, expect=kw.pop("expect", 200), **kw).json()

    def open_survey(self, token: str, timeout_s: float = 10.0) -> Any:
        """The questionnaire behind a survey link, as its e-mail's reader opens it.

        The survey service records a link in the transaction that marks its mail sent, just
        after the SMTP server took the mail: a script reading the Maildir can see the mail a
        few milliseconds before its link answers (404 until then), a person cannot."""

        def live() -> Any:
            response = self.call("survey", "GET", f"/public/surveys/{token}", {}, expect=(200, 404))
            return response.json() if response.status_code == 200 else None

        return wait_until(live, "the survey link to answer", timeout_s)

    def ready(self, services: Iterable[str]) -> bool:
        """Whether every named service answers its readiness probe."""
        for name in services:
            try:
                if self._http.get(f"{self.urls[name]}/readyz", timeout=2).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    # -- dossier commands: each at the dossier's current version -------------------------

    def dossier_version(self, dossier_id: str) -> int:
        response = self.call("dossier", "GET", f"/dossiers/{dossier_id}", self.admin, expect=200)
        return int(response.headers["etag"].strip('"'))

    def dossier(self, dossier_id: str) -> dict[str, Any]:
        view: dict[str, Any] = self.get("dossier", f"/dossiers/{dossier_id}", self.admin)
        return view

    def at_current_version(
        self,
        service: str,
        read_path: str,
        method: str,
        path: str,
        headers: Headers,
        body: dict[str, Any] | None = None,
        *,
        expect: int | Iterable[int] = (200, 201),
        attempts: int = 5,
    ) -> httpx.Response:
        """A write with `If-Match` at the version `read_path` answers (its ETag). Re-read and
        retried when the record moved in between: the services append to some records by
        themselves (a reminder sent is a fact of its session)."""
        for attempt in range(attempts):
            current = self.call(service, "GET", read_path, self.admin, expect=200)
            version = int(current.headers["etag"].strip('"'))
            try:
                return self.call(
                    service, method, path, headers, body or {}, expect=expect, version=version
                )
            except ApiError as error:
                if error.code != "concurrency_conflict" or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def on_dossier(
        self,
        dossier_id: str,
        path: str,
        headers: Headers,
        body: dict[str, Any] | None = None,
        *,
        method: str = "POST",
        expect: int | Iterable[int] = (200, 201),
    ) -> httpx.Response:
        """A command on `/dossiers/{id}{path}` with `If-Match` at the current version."""
        return self.at_current_version(
            "dossier",
            f"/dossiers/{dossier_id}",
            method,
            f"/dossiers/{dossier_id}{path}",
            headers,
            body,
            expect=expect,
        )

    def on_session(
        self, session_id: str, path: str, headers: Headers, body: dict[str, Any]
    ) -> httpx.Response:
        """A command on `/sessions/{id}{path}` at the session's current version."""
        return self.at_current_version(
            "scheduling",
            f"/sessions/{session_id}",
            "POST",
            f"/sessions/{session_id}{path}",
            headers,
            body,
        )

    def beneficiary_request(
        self, beneficiary_id: str, path: str, headers: Headers, body: dict[str, Any]
    ) -> httpx.Response:
        """A command on `/beneficiaries/{id}{path}` at the beneficiary's current version."""
        current = self.call(
            "dossier", "GET", f"/beneficiaries/{beneficiary_id}", self.admin, expect=200
        )
        return self.call(
            "dossier",
            "POST",
            f"/beneficiaries/{beneficiary_id}{path}",
            headers,
            body,
            expect=(200, 201),
            version=int(current.headers["etag"].strip('"')),
        )

    def retry(
        self,
        attempt: Callable[[], httpx.Response],
        what: str,
        while_codes: Iterable[str],
        timeout_s: float = 60.0,
    ) -> httpx.Response:
        """Repeat a command refused only because another service's facts have not arrived
        yet (Kafka is asynchronous): refusals with one of `while_codes` are retried."""
        waiting = set(while_codes)

        def once() -> httpx.Response | None:
            try:
                return attempt()
            except ApiError as error:
                if error.code in waiting or error.status == 404:
                    return None
                raise

        response: httpx.Response = wait_until(once, what, timeout_s)
        return response

    # -- the development clocks ------------------------------------------------------------

    def clock_offsets(self) -> dict[str, float]:
        return {
            name: float(self.get(name, "/dev/clock", self.admin)["offset_seconds"])
            for name in CLOCKED
        }

    def now(self) -> datetime:
        """The system's time (the dossier service's development clock), after aligning."""
        self.advance(timedelta(0))
        return datetime.fromisoformat(self.get("dossier", "/dev/clock", self.admin)["now"])

    def advance(self, by: timedelta) -> None:
        """Move every service's clock forward, together, to `by` past the furthest one.

        A discrete-event simulation across the services: the clocks move together from one due
        time to the next (the earliest timer or mail due in any service), and each service stops
        at its own due times on the way (`shared.devclock`), so every deadline fires at its own
        time, in order, whichever service holds it. The offsets only grow."""
        offsets = self.clock_offsets()
        target = max(offsets.values()) + by.total_seconds()
        while True:
            furthest = max(offsets.values())
            until = datetime.now(UTC) + timedelta(seconds=target)
            moments = []
            for name in CLOCKED:
                due = self.get(
                    name, "/dev/clock/next-due", self.admin, params={"until": until.isoformat()}
                )["next_due"]
                if due is not None:
                    moments.append(datetime.fromisoformat(due))
            now = datetime.now(UTC) + timedelta(seconds=furthest)
            # Work due already is being done by its service's own loop: only what lies ahead.
            ahead = [m for m in moments if m > now]
            stop = min(ahead, default=until)
            stop_offset = min((stop - datetime.now(UTC)).total_seconds(), target)
            for name, offset in offsets.items():
                step = stop_offset - offset
                if step > 0:
                    self.call(
                        name,
                        "POST",
                        "/dev/clock/advance",
                        self.admin,
                        {"seconds": step},
                        expect=200,
                    )
            offsets = self.clock_offsets()
            if not ahead or stop_offset >= target:
                return
