"""The RFC 9457 problem documents the routes may answer, for the OpenAPI document."""

from __future__ import annotations

from typing import Any


def _problem(status: int, code: str, detail: str) -> dict[str, Any]:
    return {
        "description": detail,
        "content": {
            "application/problem+json": {
                "example": {
                    "type": f"urn:bilan:problem:{code}",
                    "title": code.replace("_", " ").capitalize(),
                    "status": status,
                    "detail": detail,
                    "instance": "/dossiers/5b1f7e8a-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
                    "code": code,
                    "correlation_id": "0e0c2f5e-8f8b-4f57-9a51-4d7e3b0b8a11",
                }
            }
        },
    }


PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem(401, "unauthenticated", "a bearer token is required"),
    403: _problem(403, "forbidden", "professional secrecy: you may not see this"),
    404: _problem(404, "dossier_not_found", "no such dossier (or not one of your sites)"),
    409: _problem(409, "phase_order", "the investigation phase cannot start yet"),
    410: _problem(410, "content_destroyed", "the working documents were destroyed"),
    422: _problem(422, "invalid_request", "the request does not match the schema"),
    428: _problem(428, "precondition_required", 'send If-Match: "<version>"'),
}
