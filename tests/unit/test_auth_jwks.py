"""The services also trust the console's keys, published as a JWKS: tokens naming one of its
keys (`kid`) are verified with that key and must carry the console's issuer."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.console.issuer import TokenIssuer, thumbprint
from shared.auth import JwksKeys, Role, TokenVerifier, UnknownKeyError, issue_token

ISS, CONSOLE_ISS, AUD = "bilan-test", "bilan-console", "bilan"


def _private_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_pem(private_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_pem, None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


SCRIPT_KEY = _private_pem()
CONSOLE = TokenIssuer(_private_pem(), issuer=CONSOLE_ISS, audience=AUD)


def _verifier(tmp_path: Path, issuer: TokenIssuer = CONSOLE) -> TokenVerifier:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(issuer.jwks()))
    keys = JwksKeys(str(jwks_file), issuer=CONSOLE_ISS)
    asyncio.run(keys.refresh())
    return TokenVerifier(_public_pem(SCRIPT_KEY), issuer=ISS, audience=AUD, jwks=keys)


def _console_token(issuer: TokenIssuer = CONSOLE) -> str:
    return issuer.issue(
        subject="b-1",
        roles=["beneficiary"],
        sites=["s-1"],
        lifetime=timedelta(minutes=5),
        now=datetime.now(UTC),
    )


def test_a_console_token_is_verified_with_the_jwks_key(tmp_path: Path) -> None:
    principal = _verifier(tmp_path).verify(_console_token())
    assert principal.subject == "b-1"
    assert principal.roles == frozenset({Role.BENEFICIARY})
    assert principal.token_id is not None


def test_script_tokens_without_kid_still_use_the_pem_key(tmp_path: Path) -> None:
    token = issue_token(
        SCRIPT_KEY, subject="x", roles=["admin"], sites=["*"], issuer=ISS, audience=AUD
    )
    assert _verifier(tmp_path).verify(token).subject == "x"


def test_a_console_kid_with_the_script_issuer_is_refused(tmp_path: Path) -> None:
    forged = issue_token(
        SCRIPT_KEY,
        subject="x",
        roles=["admin"],
        sites=["*"],
        issuer=CONSOLE_ISS,
        audience=AUD,
        key_id=CONSOLE.key_id,
    )
    with pytest.raises(jwt.InvalidSignatureError):
        _verifier(tmp_path).verify(forged)


def test_an_unknown_kid_is_refused_until_the_jwks_holds_it(tmp_path: Path) -> None:
    rotated = TokenIssuer(_private_pem(), issuer=CONSOLE_ISS, audience=AUD)
    verifier = _verifier(tmp_path)
    with pytest.raises(UnknownKeyError):
        verifier.verify(_console_token(rotated))
    with pytest.raises(UnknownKeyError):
        # The key set is read again, but it still does not hold the new key.
        asyncio.run(verifier.verify_async(_console_token(rotated)))


def test_the_kid_is_the_rfc7638_thumbprint() -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    issuer = TokenIssuer(pem, issuer=CONSOLE_ISS, audience=AUD)
    (jwk,) = issuer.jwks()["keys"]
    assert jwk["kid"] == thumbprint(key.public_key()) == issuer.key_id
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert "d" not in jwk  # never the private half
