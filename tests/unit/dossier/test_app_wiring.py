"""The app builds without connecting anywhere, and its OpenAPI document is complete."""

from __future__ import annotations

from pathlib import Path

from services.dossier.bootstrap import create_app
from services.dossier.settings import Settings
from shared.auth import ensure_dev_key_pair


def test_openapi_documents_every_route_with_examples(tmp_path: Path) -> None:
    # A key pair of the test's own: a unit test must not rely on `bilan up` having made one.
    public = tmp_path / "public.pem"
    ensure_dev_key_pair(tmp_path / "private.pem", public)
    app = create_app(Settings(jwt_public_key_file=public))
    schema = app.openapi()
    paths = schema["paths"]
    for path in (
        "/dossiers",
        "/dossiers/{dossier_id}/conventions/{convention_id}/signatures",
        "/dossiers/{dossier_id}/synthesis",
        "/beneficiaries/{beneficiary_id}/export",
        "/internal/dossiers/{dossier_id}/contact",
    ):
        assert path in paths, path
    signing = paths["/dossiers/{dossier_id}/conventions/{convention_id}/signatures"]["post"]
    conflict = signing["responses"]["409"]["content"]["application/problem+json"]["example"]
    assert conflict["code"] == "phase_order"
    bodies = schema["components"]["schemas"]
    assert bodies["OpenDossier"]["examples"][0]["funding_route"] == "employer_plan"
    assert bodies["DraftConvention"]["examples"][0]["kind"] == "tripartite"


def test_settings_give_the_legal_delays() -> None:
    settings = Settings()
    assert settings.http_port == 8001
    assert settings.acceptance_period("tripartite").days == 10
    assert settings.withdrawal_period("employer_plan") is None
    assert settings.withdrawal_period("self_funded") is not None
    assert settings.destruction_grace.days == 30
