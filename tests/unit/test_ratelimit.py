"""The per-client token bucket of `shared.ratelimit`, on a clock the test moves."""

from __future__ import annotations

import pytest

from shared.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_that_fails_too_often_waits_and_others_do_not() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=6, burst=3, clock=clock)  # a token every 10 s
    for _ in range(3):
        assert limiter.wait("a") is None
        limiter.charge("a")
    assert limiter.wait("a") == pytest.approx(10.0)
    assert limiter.wait("b") is None, "buckets are per client"
    clock.now += 4
    assert limiter.wait("a") == pytest.approx(6.0)
    clock.now += 6
    assert limiter.wait("a") is None
    limiter.charge("a")
    assert limiter.wait("a") == pytest.approx(10.0)
    clock.now += 3600
    for _ in range(3):  # refilled to the burst, never beyond
        assert limiter.wait("a") is None
        limiter.charge("a")
    assert limiter.wait("a") is not None


def test_a_limit_needs_a_rate_and_a_burst() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        RateLimiter(per_minute=0, burst=1)
    with pytest.raises(ValueError, match="positive rate"):
        RateLimiter(per_minute=1, burst=0)
