"""Staff sign-in with the organisation's OpenID Connect provider (optional).

The authorization-code flow with PKCE (S256), `state` and `nonce` (authlib's OAuth 2 client):
the state is kept hashed in the console's database with the nonce and the code verifier, and
in a cookie of the browser that started the sign-in, so that a callback works once, only in
that browser, within ten minutes. The ID token is verified with the provider's published keys
(joserfc, authlib's JOSE library): signature, issuer, audience, expiry and nonce. Its e-mail,
if the provider says it is verified, is turned into the keyed blind index and looked up in the
scheduling directory: only a staff member still working here gets a session.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from services.console.settings import ConsoleSettings
from shared.logging import get_logger

log = get_logger(__name__)
ATTEMPT_LIFETIME = timedelta(minutes=10)
STATE_COOKIE = "bilan_oidc_state"
CALLBACK_PATH = "/connexion/oidc/retour"
METADATA_TTL_S = 3600.0
ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA"]


class OidcRefused(Exception):
    """Why a sign-in through the provider did not go through (a code for the page)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Started:
    url: str
    state: str


def _hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


class OidcSignIn:
    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: ConsoleSettings,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        assert settings.oidc_issuer
        assert settings.oidc_client_id
        self._pool = pool
        self._settings = settings
        self._issuer = settings.oidc_issuer.rstrip("/")
        self._client_id = settings.oidc_client_id
        secret = settings.oidc_client_secret
        self._client_secret = secret.get_secret_value() if secret else None
        self._redirect_uri = settings.public_url.rstrip("/") + CALLBACK_PATH
        self._transport = transport
        self._metadata: tuple[dict[str, Any], float] | None = None
        self._keys: tuple[KeySet, float] | None = None

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=self._client_secret,
            scope="openid email",
            redirect_uri=self._redirect_uri,
            code_challenge_method="S256",
            timeout=10,
            transport=self._transport,
        )

    async def _discovery(self) -> dict[str, Any]:
        if self._metadata is not None and self._metadata[1] > time.monotonic():
            return self._metadata[0]
        async with httpx.AsyncClient(timeout=10, transport=self._transport) as client:
            reply = await client.get(f"{self._issuer}/.well-known/openid-configuration")
            reply.raise_for_status()
            metadata = dict(reply.json())
        if metadata.get("issuer", "").rstrip("/") != self._issuer:
            raise OidcRefused("provider")
        self._metadata = (metadata, time.monotonic() + METADATA_TTL_S)
        return metadata

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        if not refresh and self._keys is not None and self._keys[1] > time.monotonic():
            return self._keys[0]
        metadata = await self._discovery()
        async with httpx.AsyncClient(timeout=10, transport=self._transport) as client:
            reply = await client.get(metadata["jwks_uri"])
            reply.raise_for_status()
        keys = KeySet.import_key_set(reply.json())
        self._keys = (keys, time.monotonic() + METADATA_TTL_S)
        return keys

    async def start(self, now: datetime) -> Started:
        """Where to send the browser, and the state its cookie must hold on the way back."""
        metadata = await self._discovery()
        state, nonce, verifier = generate_token(43), generate_token(32), generate_token(64)
        async with self._client() as client:
            url, _state = client.create_authorization_url(
                metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
            )
        await self._pool.execute(
            """INSERT INTO oidc_attempts (state_hash, nonce, code_verifier, created_at)
               VALUES ($1, $2, $3, $4)""",
            _hash(state),
            nonce,
            verifier,
            now,
        )
        return Started(url, state)

    async def finish(
        self, *, state: str, cookie_state: str | None, code: str, now: datetime
    ) -> str:
        """The verified e-mail address of whoever signed in at the provider, or OidcRefused."""
        if not state or not code or cookie_state is None:
            raise OidcRefused("state")
        if not secrets.compare_digest(state.encode(), cookie_state.encode()):
            raise OidcRefused("state")
        row = await self._pool.fetchrow(
            """DELETE FROM oidc_attempts WHERE state_hash = $1 AND created_at > $2
               RETURNING nonce, code_verifier""",
            _hash(state),
            now - ATTEMPT_LIFETIME,
        )
        if row is None:
            raise OidcRefused("state")
        metadata = await self._discovery()
        try:
            async with self._client() as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    code=code,
                    code_verifier=row["code_verifier"],
                    redirect_uri=self._redirect_uri,
                )
        except Exception as exc:  # the provider refused the code (or did not answer)
            log.warning("oidc_token_refused", error=type(exc).__name__)
            raise OidcRefused("provider") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcRefused("provider")
        claims = await self._verified_claims(id_token, row["nonce"])
        email = claims.get("email")
        if not isinstance(email, str) or claims.get("email_verified") is not True:
            raise OidcRefused("unverified")
        return email

    async def _verified_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        for refresh in (False, True):  # the provider may have rotated its keys
            try:
                decoded = jwt.decode(
                    id_token, await self._key_set(refresh=refresh), algorithms=ALGORITHMS
                )
                break
            except JoseError as exc:
                if refresh:
                    log.warning("oidc_id_token_invalid", error=type(exc).__name__)
                    raise OidcRefused("provider") from None
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(decoded.claims)
        except JoseError as exc:
            log.warning("oidc_id_token_refused", error=type(exc).__name__)
            raise OidcRefused("provider") from None
        return dict(decoded.claims)

    async def purge(self, now: datetime) -> None:
        await self._pool.execute(
            "DELETE FROM oidc_attempts WHERE created_at < $1", now - ATTEMPT_LIFETIME
        )
