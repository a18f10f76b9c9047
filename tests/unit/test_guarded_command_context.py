"""The guarded command context: `If-Match` is read only when the route asks for it, after its
own visibility check, so that a caller who may not see the record learns nothing from it."""

from __future__ import annotations

from typing import Any, cast

import pytest
from fastapi import Response

from shared.web import GuardedCommandContext, Problem


def _context(if_match: str | None) -> GuardedCommandContext:
    return GuardedCommandContext(cast(Any, object()), if_match, Response())


def test_a_missing_or_bad_if_match_is_refused_only_when_the_version_is_asked_for() -> None:
    missing, bad = _context(None), _context("three")  # made without raising
    with pytest.raises(Problem) as absent:
        missing.expected_version()
    with pytest.raises(Problem) as malformed:
        bad.expected_version()
    assert (absent.value.status, absent.value.code) == (428, "precondition_required")
    assert (malformed.value.status, malformed.value.code) == (400, "bad_if_match")


def test_the_version_read_and_the_etag_of_the_version_left() -> None:
    context = _context('W/"7"')
    assert context.expected_version() == 7
    assert context.answered(8) == 8
    assert context.response.headers["ETag"] == '"8"'
