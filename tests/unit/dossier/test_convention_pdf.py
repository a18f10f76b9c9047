"""The convention's document says who the provider is, the price as French writes it, and for
each party when and how it signed (issue 18)."""

from __future__ import annotations

import base64
import io
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from services.dossier.adapters.convention_pdf import Provider, euros, render, signature_line
from services.dossier.domain.dossier import Convention
from services.dossier.settings import Settings

PROVIDER = Provider(
    legal_name="Centre Horizons Bilans SAS",
    address="20 rue de la Villette, 69003 Lyon",
    siret="12345678900017",
    nda="84691234569",
)
CONVENTION = Convention(
    convention_id="c0ffee00-0000-4000-8000-000000000001",
    kind="tripartite",
    required_parties=("beneficiary", "provider", "employer"),
    mentions={"title": "Bilan de compétences"},
    duration_minutes=1200,
    price_cents=180000,
    drafted_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    status="sent",
    signatures={
        "beneficiary": datetime(2026, 3, 3, 9, 15, tzinfo=UTC),
        "employer": datetime(2026, 7, 1, 14, 0, tzinfo=UTC),
    },
    signature_methods={"beneficiary": "electronic", "employer": "handwritten"},
)


def _text(document: bytes) -> str:
    pages = PdfReader(io.BytesIO(document)).pages
    # Lines are wrapped where the page ends: read the text as one line.
    return " ".join(" ".join(page.extract_text().split()) for page in pages).replace("\xa0", " ")


@pytest.mark.parametrize(
    ("cents", "expected"),
    [(180000, "1 800,00 € TTC"), (9550, "95,50 € TTC"), (123456789, "1 234 567,89 € TTC")],
)
def test_a_price_reads_as_french_writes_it(cents: int, expected: str) -> None:
    assert euros(cents).replace("\xa0", " ") == expected


def test_each_party_s_line_says_when_in_paris_and_how() -> None:
    assert signature_line(CONVENTION, "beneficiary") == (
        "Le bénéficiaire : signé le 03/03/2026 à 10:15 (heure de Paris), "
        "signature électronique simple, en ligne"
    )
    # Summer time: UTC+2.
    assert signature_line(CONVENTION, "employer") == (
        "L'employeur : signé le 01/07/2026 à 16:00 (heure de Paris), "
        "signature manuscrite, document signé numérisé"
    )
    assert signature_line(CONVENTION, "provider") == "Le prestataire : non signé"
    older = replace(CONVENTION, signature_methods={})
    assert signature_line(older, "employer") == (
        "L'employeur : signé le 01/07/2026 à 16:00 (heure de Paris)"
    ), "a v1.0 signature has no method to show"


def test_the_document_names_the_provider_the_price_and_the_signatures() -> None:
    text = _text(render(CONVENTION, "Camille Martin", PROVIDER))
    for expected in (
        "Centre Horizons Bilans SAS",
        "20 rue de la Villette, 69003 Lyon",
        "SIRET 123 456 789 00017",
        "Déclaration d'activité enregistrée sous le numéro 84691234569",
        "Camille Martin",
        "1 800,00 € TTC",
        "signature électronique simple, en ligne",
        "Le prestataire : non signé",
    ):
        assert expected in text, expected
    assert render(CONVENTION, "Camille Martin", PROVIDER) == render(
        CONVENTION, "Camille Martin", PROVIDER
    ), "the same convention gives the same bytes (its SHA-256 is what is signed)"


def test_outside_development_the_provider_must_be_named(tmp_path: Path) -> None:
    public = tmp_path / "issuer.pem"
    public.write_text("-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n")
    production = {
        "environment": "production",
        "master_key": base64.b64encode(os.urandom(32)).decode(),
        "jwt_public_key_file": str(public),
        "database_url": "postgresql://svc:s3cret@db:5432/bilan_dossier",
    }
    identity = {
        "provider_legal_name": PROVIDER.legal_name,
        "provider_address": PROVIDER.address,
        "provider_siret": PROVIDER.siret,
        "provider_nda": PROVIDER.nda,
    }
    with pytest.raises(ValueError, match="set provider_siret, provider_nda in production"):
        Settings.model_validate(
            {**production, "provider_legal_name": "Centre Horizons", "provider_address": "Lyon"}
        )
    assert Settings.model_validate({**production, **identity}).provider() == PROVIDER
    with pytest.raises(ValueError, match="not the example zeros"):
        Settings.model_validate({**production, **identity, "provider_siret": "0" * 14})
    with pytest.raises(ValueError, match="provider_siret"):
        Settings.model_validate({**production, **identity, "provider_siret": "123"})
    with pytest.raises(ValueError, match="provider_legal_name"):
        Settings(provider_siret="12345678900017")  # development too: all or nothing
    assert Settings().provider().siret == "00000000000000"  # the development placeholder
