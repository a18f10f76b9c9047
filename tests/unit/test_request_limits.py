"""The platform's request-body limit (413 before parsing) and the capped 422, through a real
FastAPI app with the shared middleware and problem handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.inputs import RequestBody
from shared.web import MAX_ECHOED_ERRORS, BodySizeLimitMiddleware, install_problem_handlers

LIMIT = 4096


class Flat(RequestBody):
    name: str


def _client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=LIMIT)

    @app.post("/things")
    async def things(body: Flat) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return TestClient(app)


def test_a_body_over_the_limit_is_a_413_problem() -> None:
    client = _client()
    big = json.dumps({"name": "x" * LIMIT})
    response = client.post("/things", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "content_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: read up to the limit, then refused
        yield b'{"name": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    chunked = client.post("/things", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    small = client.post("/things", json={"name": "ok"})
    assert (small.status_code, small.json()) == (200, {"name": "ok"})

    def small_chunks() -> Iterator[bytes]:
        yield b'{"name": '
        yield b'"chunked"}'

    replayed = client.post(
        "/things", content=small_chunks(), headers={"content-type": "application/json"}
    )
    assert (replayed.status_code, replayed.json()) == (200, {"name": "chunked"})


def test_a_422_lists_a_bounded_number_of_errors() -> None:
    client = _client()
    keys = {f"k{i}": i for i in range(300)}  # 300 unknown keys, under the size limit
    response = client.post("/things", json={"name": "ok", **keys})
    assert response.status_code == 422
    body = response.json()
    assert len(body["errors"]) == MAX_ECHOED_ERRORS
    assert body["errors_total"] == 300
    assert "k1" not in json.dumps([e["msg"] for e in body["errors"]])
