"""Settings refuse placeholder secrets and the development clock outside development."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import ServiceSettings


def test_development_defaults_are_accepted() -> None:
    settings = ServiceSettings(environment="development")
    assert len(settings.master_key_bytes()) == 32


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_placeholders_are_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ServiceSettings(environment=environment, dev_clock_enabled=True)
    message = str(caught.value)
    assert "master_key is the development placeholder" in message
    assert "dev_clock_enabled is for development only" in message
    assert "jwt_public_key_file is the development key" in message


def test_real_secrets_are_accepted_in_production(tmp_path: Path) -> None:
    public = tmp_path / "issuer.pem"
    public.write_text("-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n")
    settings = ServiceSettings(
        environment="production",
        master_key=base64.b64encode(os.urandom(32)).decode(),
        jwt_public_key_file=public,
        database_url="postgresql://svc:s3cret@db:5432/bilan_dossier",
    )
    assert settings.environment == "production"


def test_master_key_must_be_32_bytes() -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        ServiceSettings(master_key=base64.b64encode(b"short").decode())


def test_environment_variables_are_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILAN_HTTP_PORT", "9123")
    assert ServiceSettings().http_port == 9123
