"""`Idempotency-Key` for creating commands: a retried request returns the first outcome.

A client that lost the answer to `POST /dossiers` (a timeout, a dropped connection, a 503
while the commit went through) cannot tell whether the dossier exists; retrying without a key
would open a second one. With the same `Idempotency-Key` the retry is answered with the
first request's stored response (`Idempotent-Replayed: true`) and changes nothing.

How it stays exact across crashes: the middleware only *announces* the key (a context
variable); the first `unit_of_work` of the request inserts the claim row inside the command's
own transaction, so the claim is committed exactly when the command is. A concurrent duplicate
blocks on the claim's primary key until the first commits, then finds it and is replayed. The
response is stored when it leaves. The one window left — the process dies between the commit
and storing the response — is answered honestly: 409 `idempotency_outcome_lost` (the command
was accepted once; its answer is gone), never a second creation.

Keys are scoped by the caller (token subject) and the route; the same key with another body
is refused (422). A refused command (4xx) or an error rolls the claim back with it, so its
retry runs again. Only the routes a service names use it: their responses carry ids, never
personal data, since the stored copy is not encrypted (it is purged after `RETENTION`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import Connection
from shared.logging import get_logger
from shared.transient import is_transient

PROBLEM_JSON = "application/problem+json"

HEADER = "idempotency-key"
REPLAYED_HEADER = "idempotent-replayed"
RETENTION = timedelta(days=1)
_MAX_KEY = 200
_KEPT_HEADERS = ("etag", "location", "x-beneficiary-id", "content-type")
log = get_logger(__name__)


@dataclass
class Claim:
    scope: str
    key: str
    fingerprint: str
    written: bool = False
    replay: bool = False
    """Set when the claim was found already committed: the request must not run."""


_CLAIM: ContextVar[Claim | None] = ContextVar("bilan_idempotency_claim", default=None)


class AlreadyDone(Exception):
    """Raised inside the command's transaction when its key was committed by an earlier one."""


async def claim_in(conn: Connection) -> None:
    """Called by `unit_of_work` at the start of a request's first transaction."""
    claim = _CLAIM.get()
    if claim is None or claim.written:
        return
    claim.written = True
    inserted = await conn.fetchval(
        """INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING true""",
        claim.scope,
        claim.key,
        claim.fingerprint,
    )
    if not inserted:
        claim.replay = True
        raise AlreadyDone(claim.key)


class IdempotencyMiddleware:
    """Announces the key of a POST to one of `paths`, and replays or stores its outcome."""

    def __init__(self, app: ASGIApp, pool_of: Any, paths: Iterable[str]) -> None:
        self._app = app
        self._pool_of = pool_of
        self._paths = tuple(paths)

    def _route_of(self, scope: Scope) -> str | None:
        path: str = scope.get("path", "")
        parts = path.strip("/").split("/")
        for template in self._paths:
            names = template.strip("/").split("/")
            if len(names) == len(parts) and all(
                n.startswith("{") or n == p for n, p in zip(names, parts, strict=True)
            ):
                return template
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER) if scope["type"] == "http" else None
        route = self._route_of(scope) if key is not None and scope["method"] == "POST" else None
        if key is None or route is None:
            await self._app(scope, receive, send)
            return
        if not key or len(key) > _MAX_KEY or not key.isprintable():
            await _send_problem(
                send, 400, "bad_idempotency_key", "Idempotency-Key: 1 to 200 printable characters"
            )
            return
        caller = _caller(scope)
        if caller is None:
            # No valid token: the route itself answers 401, and nothing is replayed to a
            # caller who could not prove who they are.
            await self._app(scope, receive, send)
            return
        body, receive = await _buffer(receive)
        claim = Claim(
            scope=f"{caller}:{route}",
            key=key,
            fingerprint=hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest(),
        )
        pool: asyncpg.Pool = self._pool_of()
        try:
            stored = await _stored(pool, claim)
            if stored is not None and stored["status"] is None:
                stored = await _wait_stored(pool, claim)  # committed, its answer on its way
        except Exception as exc:
            if not is_transient(exc):
                raise
            await _send_problem(
                send,
                503,
                "service_unavailable",
                "the database is unavailable; retry in a few seconds with the same key",
                retry_after_s=2,
            )
            return
        if stored is not None:
            await _replay(send, claim, stored)
            return
        token = _CLAIM.set(claim)
        captured: dict[str, Any] = {"status": None, "headers": [], "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            if not claim.replay:
                await send(message)

        try:
            await self._app(scope, receive, capture)
        finally:
            _CLAIM.reset(token)
        if claim.replay:
            # Lost the race to an identical request that committed first: answer as it did.
            await _replay(send, claim, await _wait_stored(pool, claim))
        elif claim.written and captured["status"] is not None and captured["status"] < 400:
            await _store(pool, claim, captured)


async def _stored(pool: asyncpg.Pool, claim: Claim) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        """SELECT fingerprint, status, headers, body FROM idempotency_keys
           WHERE scope = $1 AND key = $2""",
        claim.scope,
        claim.key,
    )
    return row


async def _wait_stored(
    pool: asyncpg.Pool, claim: Claim, timeout_s: float = 5.0
) -> asyncpg.Record | None:
    """The first request's outcome, once it stored it (it committed before we could claim)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        row = await _stored(pool, claim)
        if row is None or row["status"] is not None or asyncio.get_running_loop().time() > deadline:
            return row
        await asyncio.sleep(0.05)


async def _store(pool: asyncpg.Pool, claim: Claim, captured: dict[str, Any]) -> None:
    headers = {
        k.decode("latin-1").lower(): v.decode("latin-1")
        for k, v in captured["headers"]
        if k.decode("latin-1").lower() in _KEPT_HEADERS
    }
    try:
        await pool.execute(
            """UPDATE idempotency_keys SET status = $3, headers = $4::jsonb, body = $5
               WHERE scope = $1 AND key = $2""",
            claim.scope,
            claim.key,
            captured["status"],
            orjson.dumps(headers).decode(),
            captured["body"],
        )
        await pool.execute(
            "DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval", RETENTION
        )
    except Exception as exc:
        # The command committed and its answer left; only a retry's replay is lost (it
        # will be told so by 409 idempotency_outcome_lost).
        log.warning("idempotency_store_failed", error=type(exc).__name__)


async def _replay(send: Send, claim: Claim, row: asyncpg.Record | None) -> None:
    if row is None:
        await _send_problem(send, 409, "idempotency_outcome_lost", "retry with a new key")
        return
    if row["fingerprint"] != claim.fingerprint:
        await _send_problem(
            send,
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was used for another request; use a new key",
        )
        return
    if row["status"] is None:
        await _send_problem(
            send,
            409,
            "idempotency_outcome_lost",
            "a request with this key was accepted, but its answer was lost; "
            "look the resource up before creating it again with a new key",
        )
        return
    headers = [(k.encode(), v.encode()) for k, v in orjson.loads(row["headers"]).items()]
    headers.append((REPLAYED_HEADER.encode(), b"true"))
    await send({"type": "http.response.start", "status": row["status"], "headers": headers})
    await send({"type": "http.response.body", "body": bytes(row["body"])})


async def _send_problem(
    send: Send, status: int, code: str, detail: str, *, retry_after_s: int | None = None
) -> None:
    body = orjson.dumps(
        {
            "type": f"urn:bilan:problem:{code}",
            "title": code.replace("_", " ").capitalize(),
            "status": status,
            "detail": detail,
            "code": code,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                *([(b"retry-after", str(retry_after_s).encode())] if retry_after_s else []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body (to fingerprint it) and hand the app an equivalent `receive`."""
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay_receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay_receive


def _caller(scope: Scope) -> str | None:
    """The verified token's subject: keys are the caller's own, whatever token they hold now."""
    raw = _header(scope, "authorization") or ""
    scheme, _, token = raw.partition(" ")
    app = scope.get("app")
    verifier = getattr(getattr(app, "state", None), "token_verifier", None)
    if scheme.lower() != "bearer" or not token or verifier is None:
        return None
    try:
        subject: str = verifier.verify(token).subject
    except Exception:
        return None
    return subject


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            text: str = value.decode("latin-1")
            return text
    return None
