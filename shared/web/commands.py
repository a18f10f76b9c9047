"""The HTTP side of a command: its transaction, the version it expects, the version it leaves.

- `Tx`: one transaction per request (`unit_of_work` on the runtime's pool), committed before
  the response leaves, so a client never gets a success for a commit that then fails;
- `IfMatch`: the version the client read (`If-Match: "<version>"`), 428 without one, 400 when
  it is not a version; `parse_if_match` is the one parser, for a route that must first check
  who may see the aggregate (`IfMatchHeader` then gives the raw header);
- `set_etag`: `ETag: "<version>"` on the answer;
- `CommandContext` (`OnAggregate`): the three together, for "run this command on this
  aggregate" routes: the route keeps its decorator, its role, its body and the line that builds
  its command, and hands them to its service's runner with the context;
  `GuardedCommandContext` (`OnGuardedAggregate`) is the same for a route that first checks who
  may see the aggregate: it parses `If-Match` only when asked, after that check;
- `install_refusal_handler`: the domain's `Refused` as a problem document, with the status that
  the service maps its kind to (once, in its api package).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse

from shared.aggregate.refusal import RefusalKind, Refused
from shared.db import Connection
from shared.unit_of_work import unit_of_work
from shared.web import Problem, problem_response

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')

IF_MATCH_DESCRIPTION = 'The version read (ETag), e.g. "3": required; a stale one gets 409.'

IfMatchHeader = Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_DESCRIPTION)]
"""The raw `If-Match` header, for routes that parse it after checking who may see the record."""


def parse_if_match(raw: str | None) -> int:
    """The stream version named by `If-Match` (428 when absent, 400 when not a version)."""
    if raw is None:
        raise Problem(
            428, "precondition_required", 'send If-Match: "<version>" from the ETag you read'
        )
    match = _ETAG.match(raw.strip())
    if match is None:
        raise Problem(400, "bad_if_match", 'If-Match must be a version, e.g. "3"')
    return int(match.group(1))


async def expected_version(raw: IfMatchHeader = None) -> int:
    return parse_if_match(raw)


IfMatch = Annotated[int, Depends(expected_version)]
"""The version the client read, parsed before the route runs."""


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


async def transaction(request: Request) -> AsyncIterator[Connection]:
    """One transaction per request on the runtime's pool: a refused command leaves nothing."""
    async with unit_of_work(request.app.state.runtime.pool) as conn:
        yield conn


# Function scope: the transaction commits before the response leaves, so a client never gets a
# success for a commit that then fails, nor reads its own write too early.
Tx = Annotated[Connection, Depends(transaction, scope="function")]


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What a command on an existing aggregate needs from its request."""

    conn: Connection
    expected_version: int
    response: Response

    def answered(self, version: int) -> int:
        """Set the ETag of the version the command left; returns it."""
        set_etag(self.response, version)
        return version


async def command_context(conn: Tx, version: IfMatch, response: Response) -> CommandContext:
    return CommandContext(conn, version, response)


OnAggregate = Annotated[CommandContext, Depends(command_context)]
"""The request's transaction, its `If-Match` version and its response, in that order."""


@dataclass(frozen=True, slots=True)
class GuardedCommandContext:
    """What a command on an existing aggregate needs from its request, for a route that must
    first check who may see the aggregate: `If-Match` is parsed only by `expected_version()`,
    after that check, so a stale or missing one tells a stranger nothing (404, not 428)."""

    conn: Connection
    if_match: str | None
    response: Response

    def expected_version(self) -> int:
        """The version the client read (428 without `If-Match`, 400 when not a version)."""
        return parse_if_match(self.if_match)

    def answered(self, version: int) -> int:
        """Set the ETag of the version the command left; returns it."""
        set_etag(self.response, version)
        return version


async def guarded_command_context(
    conn: Tx, response: Response, if_match: IfMatchHeader = None
) -> GuardedCommandContext:
    return GuardedCommandContext(conn, if_match, response)


OnGuardedAggregate = Annotated[GuardedCommandContext, Depends(guarded_command_context)]
"""The request's transaction, its raw `If-Match` (parsed on demand) and its response."""


def install_refusal_handler(app: FastAPI, statuses: Mapping[RefusalKind, int]) -> None:
    """Answer the domain's refusals as problem documents, `statuses[kind]` as the status."""
    missing = set(RefusalKind) - statuses.keys()
    if missing:
        raise ValueError(f"no status for refusal kinds {sorted(missing)}")

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        return problem_response(request, statuses[exc.kind], exc.code, exc.detail, **exc.extra)
