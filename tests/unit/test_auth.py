"""Token verification and the role and site dependencies, through a real FastAPI app."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from shared.auth import Principal, Role, TokenVerifier, issue_token, require_roles
from shared.web import install_problem_handlers

ISS, AUD = "bilan-test", "bilan"
SITE_A, SITE_B = str(uuid.uuid4()), str(uuid.uuid4())


def _key_pair() -> tuple[bytes, bytes]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


PRIVATE, PUBLIC = _key_pair()
OTHER_PRIVATE, _ = _key_pair()


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(PUBLIC, issuer=ISS, audience=AUD)
    install_problem_handlers(app)
    managers = require_roles(Role.SITE_MANAGER, Role.ADMIN)

    @app.get("/sites/{site_id}/rooms")
    def rooms(site_id: str, who: Annotated[Principal, Depends(managers)]) -> dict[str, str]:
        who.require_site(site_id)
        return {"subject": who.subject}

    return TestClient(app)


def _token(private: bytes = PRIVATE, **overrides: object) -> str:
    args: dict[str, object] = {
        "subject": "staff-1",
        "roles": [Role.SITE_MANAGER],
        "sites": [SITE_A],
        "issuer": ISS,
        "audience": AUD,
    }
    args.update(overrides)
    return issue_token(private, **args)  # type: ignore[arg-type]


def _get(
    client: TestClient, token: str | None, site: str = SITE_A
) -> tuple[int, dict[str, object]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(f"/sites/{site}/rooms", headers=headers)
    return response.status_code, response.json()


def test_valid_token_with_role_and_site_passes(client: TestClient) -> None:
    assert _get(client, _token()) == (200, {"subject": "staff-1"})


def test_all_sites_token_passes_for_any_site(client: TestClient) -> None:
    status, _ = _get(client, _token(roles=[Role.ADMIN], sites=["*"]), site=SITE_B)
    assert status == 200


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        (None, 401, "unauthenticated"),
        ("not-a-jwt", 401, "unauthenticated"),
        (_token(private=OTHER_PRIVATE), 401, "unauthenticated"),
        (
            _token(now=datetime.now(UTC) - timedelta(days=2), lifetime=timedelta(hours=1)),
            401,
            "unauthenticated",
        ),
        (_token(issuer="someone-else"), 401, "unauthenticated"),
        (_token(audience="another-api"), 401, "unauthenticated"),
        (_token(roles=[Role.CONSULTANT]), 403, "forbidden"),
        (_token(sites=[SITE_B]), 403, "forbidden"),
    ],
    ids=["missing", "garbage", "bad-signature", "expired", "issuer", "audience", "role", "site"],
)
def test_refusals(client: TestClient, token: str | None, status: int, code: str) -> None:
    got_status, body = _get(client, token)
    assert got_status == status
    assert body["code"] == code
    assert body["status"] == status
    assert "subject" not in body


def test_expired_token_says_so(client: TestClient) -> None:
    old = _token(now=datetime.now(UTC) - timedelta(days=2), lifetime=timedelta(hours=1))
    _, body = _get(client, old)
    assert "expired" in str(body["detail"])


def test_unknown_role_in_token_is_refused() -> None:
    verifier = TokenVerifier(PUBLIC, issuer=ISS, audience=AUD)
    import jwt

    forged_roles = jwt.encode(
        {
            "sub": "x",
            "roles": ["superuser"],
            "sites": [],
            "iss": ISS,
            "aud": AUD,
            "iat": int(datetime.now(UTC).timestamp()),
            "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
        },
        serialization.load_pem_private_key(PRIVATE, None),  # type: ignore[arg-type]
        algorithm="EdDSA",
    )
    with pytest.raises(jwt.InvalidTokenError):
        verifier.verify(forged_roles)


def test_a_verified_token_is_checked_again_once_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shared.auth

    verifier = TokenVerifier(PUBLIC, issuer=ISS, audience=AUD)
    full_checks: list[str] = []
    real_verify = verifier._verify

    def counting(token: str) -> tuple[Principal, float]:
        full_checks.append(token)
        return real_verify(token)

    monkeypatch.setattr(verifier, "_verify", counting)
    token = _token(lifetime=timedelta(minutes=10))
    first, second = verifier.verify(token), verifier.verify(token)
    assert first == second
    assert first.subject == "staff-1"
    assert len(full_checks) == 1, "the signature of a token in use is checked once"

    later = datetime.now(UTC) + timedelta(minutes=10, seconds=shared.auth.LEEWAY_S + 1)
    monkeypatch.setattr("shared.auth.time.time", later.timestamp)
    verifier.verify(token)
    assert len(full_checks) == 2, "past its expiry the token goes through the full check again"
    other = _token(private=OTHER_PRIVATE)
    with pytest.raises(Exception, match="Signature"):
        verifier.verify(other)


def test_a_token_living_longer_than_the_maximum_is_refused() -> None:
    verifier = TokenVerifier(PUBLIC, issuer=ISS, audience=AUD, max_lifetime_s=3600)
    century = _token(lifetime=timedelta(days=36500))
    with pytest.raises(jwt.InvalidTokenError, match="lifetime exceeds 3600 seconds"):
        verifier.verify(century)
    assert verifier.verify(_token(lifetime=timedelta(minutes=59))).subject == "staff-1"
    default = TokenVerifier(PUBLIC, issuer=ISS, audience=AUD)
    with pytest.raises(jwt.InvalidTokenError):
        default.verify(_token(lifetime=timedelta(hours=25)))


def test_a_too_long_token_is_a_401_problem() -> None:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(PUBLIC, issuer=ISS, audience=AUD)
    install_problem_handlers(app)

    @app.get("/me")
    def me(who: Annotated[Principal, Depends(require_roles(Role.SITE_MANAGER))]) -> str:
        return who.subject

    response = TestClient(app).get(
        "/me", headers={"Authorization": f"Bearer {_token(lifetime=timedelta(days=36500))}"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
