"""The authorisation matrix (issue 16): every route of a service, read from its OpenAPI, is
tried by every kind of caller — each role on its own site and on another, a beneficiary on
their own dossier and on someone else's, a service, no token — on real objects, and nothing
answers 2xx that the matrix does not allow.

The expected cells are written once per route as the callers allowed (`Route.allowed`);
every other caller must be refused for who they are: 401, 403 or a 404 of the service's own
(not the router's "no such route"). A 409 or 422 to a caller outside the allowed set means
the request went past the authorisation checks, and fails too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from deploy.tokens import dev_token

STAFF_ROLES = ("consultant", "psychologist", "site_manager", "quality_lead", "auditor", "admin")


@dataclass(frozen=True)
class Caller:
    """One kind of caller: `name` is how the matrix names it, e.g. `consultant@site`."""

    name: str
    roles: tuple[str, ...]
    sites: tuple[str, ...]
    subject: str | None

    def headers(self) -> dict[str, str]:
        if not self.roles:
            return {}
        token = dev_token(list(self.roles), list(self.sites), subject=self.subject)
        return {"Authorization": f"Bearer {token}"}


def callers(site: str, *, people: dict[str, str], others: Iterable[str] = ()) -> list[Caller]:
    """Every role on `site` (`<role>@site`) and on another site (`<role>@away`), the people
    named in `people` (`name -> subject`, on `site`), `service`, and no token (`anonymous`).
    `people` must name `beneficiary@mine`; `beneficiary@other` is someone else."""
    away = str(uuid.uuid4())
    found = [
        Caller("anonymous", (), (), None),
        Caller("service", ("service",), ("*",), "internal"),
        Caller("beneficiary@other", ("beneficiary",), (), str(uuid.uuid4())),
    ]
    for name, subject in people.items():
        role = name.split("@")[0]
        found.append(Caller(name, (role,), (site,) if role != "beneficiary" else (), subject))
    for role in STAFF_ROLES:
        found.append(Caller(f"{role}@site", (role,), (site,), str(uuid.uuid4())))
        found.append(Caller(f"{role}@away", (role,), (away,), str(uuid.uuid4())))
    for name in others:
        role = name.split("@")[0]
        found.append(Caller(name, (role,), (site,), str(uuid.uuid4())))
    return found


@dataclass(frozen=True)
class Route:
    """One operation: its request and the callers allowed to get a 2xx."""

    method: str
    path: str
    allowed: frozenset[str]
    body: Any = None
    version_of: str | None = None
    """A path whose ETag the request sends as If-Match (read as an allowed caller)."""
    params: dict[str, str] | None = None


def fill(value: Any, ids: dict[str, str]) -> Any:
    """`value` with every string `{name}` replaced by `ids[name]` (bodies naming real ids)."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def with_ids(routes: list[Route], ids: dict[str, str]) -> list[Route]:
    return [
        Route(r.method, r.path, r.allowed, fill(r.body, ids), r.version_of, r.params)
        for r in routes
    ]


READER = Caller("reader", ("admin",), ("*",), None)
"""Reads the versions the requests send."""


def route(
    method: str,
    path: str,
    allowed: str,
    body: Any = None,
    version_of: str | None = None,
    params: dict[str, str] | None = None,
) -> Route:
    return Route(method.upper(), path, frozenset(allowed.split()), body, version_of, params)


EVERYONE = "anonymous"
"""A route anyone may call (no token): the whole matrix is allowed."""


@dataclass
class Outcome:
    tried: int = 0
    unexpected: list[str] = field(default_factory=list)


def operations_of(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(METHOD, path template) of every operation in an OpenAPI document."""
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }


async def check_matrix(
    client: httpx.AsyncClient,
    routes: list[Route],
    everyone: list[Caller],
    ids: dict[str, str],
    *,
    reader: Caller,
    operations: set[tuple[str, str]],
    not_in_matrix: Iterable[tuple[str, str]] = (),
) -> Outcome:
    """Run every refused cell; the cells that answered wrongly."""
    listed = {(r.method, r.path) for r in routes} | set(not_in_matrix)
    missing = sorted(operations - listed)
    assert not missing, f"routes with no row in the matrix: {missing}"
    outcome = Outcome()
    names = {c.name for c in everyone}
    for r in routes:
        unknown = r.allowed - names - {EVERYONE}
        assert not unknown, f"{r.method} {r.path} allows unknown callers {sorted(unknown)}"
        if EVERYONE in r.allowed:
            continue
        url = r.path.format(**ids)
        for caller in everyone:
            if caller.name in r.allowed:
                continue
            versions: list[str | None] = [None]
            if r.version_of is not None:
                read = await client.get(r.version_of.format(**ids), headers=reader.headers())
                assert read.status_code == 200, (r.version_of, read.text)
                # The current version, and a stale one: who may act is checked before the
                # version, so a stale If-Match must not tell a stranger the object exists.
                versions = [read.headers["etag"], '"999999"']
            for version in versions:
                headers = caller.headers()
                if version is not None:
                    headers["If-Match"] = version
                response = await client.request(
                    r.method,
                    url,
                    headers=headers,
                    params=r.params,
                    json=r.body if r.method != "GET" else None,
                )
                outcome.tried += 1
                status = response.status_code
                code = _code(response)
                refused_for_who = status in (401, 403) or (status == 404 and code != "not_found")
                if not refused_for_who:
                    outcome.unexpected.append(
                        f"{r.method} {r.path} as {caller.name} (If-Match {version}): "
                        f"{status} {code or ''}"
                    )
    return outcome


def _code(response: httpx.Response) -> str | None:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        value = response.json().get("code")
        return str(value) if value is not None else None
    return None
