"""Per-client rate limits for endpoints anyone may call (public answer links, sign-in).

A token bucket per client address: `burst` failed attempts at once, then `per_minute` a
minute. Only refusals that a guess produces (404 unknown link, 410 expired link) take a
token: a respondent opening and answering their own link never runs short, while a client
guessing links is refused with 429 and `Retry-After` (seconds) before any work is done, valid
link or not. The buckets live in the process (one per client seen lately, bounded): each
instance limits on its own, which is enough to turn 471 guesses a second into a few a minute.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

from fastapi import HTTPException, Request, status

from shared.aggregate.refusal import RefusalKind, Refused

MAX_CLIENTS = 100_000
"""Buckets kept at most; the least recently seen are forgotten first."""


class RateLimiter:
    """Token buckets keyed by client; `check(key)` is None or the seconds to wait."""

    def __init__(
        self, *, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self._rate_per_s = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, key: str) -> float | None:
        """None if `key` may try now, else the seconds until its next token."""
        tokens = self._tokens(key)
        return None if tokens >= 1.0 else (1.0 - tokens) / self._rate_per_s

    def charge(self, key: str) -> None:
        """Take one token from `key`'s bucket (an attempt that failed)."""
        self._tokens(key, spend=1.0)

    def _tokens(self, key: str, spend: float = 0.0) -> float:
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self._burst, now))
        tokens = max(0.0, min(self._burst, tokens + (now - last) * self._rate_per_s) - spend)
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return tokens


def client_key(request: Request) -> str:
    """The client's address as the server saw it (the proxy in front sets it right)."""
    return request.client.host if request.client else "unknown"


COUNTED_STATUSES = frozenset({404, 410})
"""Refusals that count as a failed attempt: what a guessed or stale link gets."""


COUNTED_REFUSALS = frozenset({RefusalKind.NOT_FOUND, RefusalKind.GONE})
"""The domain's refusals that a guessed or stale link gets (answered 404 and 410)."""


def _status_of(exc: BaseException) -> int | None:
    if isinstance(exc, Refused):
        return 404 if exc.kind in COUNTED_REFUSALS else None
    for name in ("status_hint", "status", "status_code"):
        value = getattr(exc, name, None)
        if isinstance(value, int):
            return value
    return None


def rate_limited(
    limiter_of: Callable[[Request], RateLimiter],
) -> Callable[[Request], AsyncIterator[None]]:
    """FastAPI dependency: 429 with `Retry-After` once the caller has failed too often."""

    async def dependency(request: Request) -> AsyncIterator[None]:
        limiter = limiter_of(request)
        key = client_key(request)
        wait = limiter.wait(key)
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many failed attempts from this client; retry later",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        try:
            yield
        except Exception as exc:
            if _status_of(exc) in COUNTED_STATUSES:
                limiter.charge(key)
            raise

    return dependency
