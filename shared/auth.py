"""Access tokens: JWTs signed with an asymmetric key (EdDSA), verified by every service.

People's tokens come from the console (`services/console`), which signs them with its own key
and publishes it as a JWKS; scripts and development use `bilan token` (the configured PEM key).
A token names its subject, its roles and the sites it may act on (`*`: every site).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, HTTPException, Request, status

ALL_SITES = "*"
ALGORITHMS = ["EdDSA", "RS256", "ES256"]
"""Accepted signature algorithms: all asymmetric, so services hold no signing secret."""
LEEWAY_S = 30
"""Clock skew tolerated on `exp`, `iat` and `nbf`."""
VERIFIED_CACHE_SIZE = 10_000
MAX_LIFETIME_S = 24 * 3600
"""Default longest lifetime (`exp` - `iat`) a token may have: a stolen token, or one issued
by mistake for a century, is usable for at most this long."""
JWKS_REFRESH_MIN_INTERVAL_S = 30.0
"""An unknown `kid` refetches the JWKS at most this often (a forged kid cannot flood it)."""


class Role(StrEnum):
    """Who may do what (architecture.md, decision 7); `service` is for internal calls."""

    BENEFICIARY = "beneficiary"
    CONSULTANT = "consultant"
    PSYCHOLOGIST = "psychologist"
    SITE_MANAGER = "site_manager"
    QUALITY_LEAD = "quality_lead"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller."""

    subject: str
    roles: frozenset[Role]
    sites: frozenset[str]
    token_id: str | None = None

    @property
    def all_sites(self) -> bool:
        return ALL_SITES in self.sites

    def has_any_role(self, roles: Iterable[Role]) -> bool:
        return not self.roles.isdisjoint(roles)

    def can_act_on_site(self, site_id: UUID | str) -> bool:
        return self.all_sites or str(site_id) in self.sites

    def require_site(self, site_id: UUID | str) -> None:
        """403 unless the token covers `site_id`."""
        if not self.can_act_on_site(site_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this token does not cover that site")


class UnknownKeyError(jwt.InvalidTokenError):
    """The token names a `kid` that no trusted key set holds (yet)."""


class JwksKeys:
    """Public keys of another issuer (the console), read from a JWKS file or URL.

    Keys are looked up by `kid`. A URL is fetched again, at most every
    `JWKS_REFRESH_MIN_INTERVAL_S`, when a token names a key it does not hold: the issuer may
    have rotated its key.
    """

    def __init__(self, source: str, *, issuer: str) -> None:
        self.source = source
        self.issuer = issuer
        self._keys: dict[str, Any] = {}
        self._fetched_at = -JWKS_REFRESH_MIN_INTERVAL_S
        self._lock = asyncio.Lock()

    def key(self, kid: str) -> Any | None:
        return self._keys.get(kid)

    def load(self, document: dict[str, Any]) -> None:
        keys: dict[str, Any] = {}
        for jwk in document.get("keys", []):
            kid = jwk.get("kid")
            if isinstance(kid, str):
                keys[kid] = jwt.PyJWK.from_dict(jwk).key
        self._keys = keys

    async def refresh(self) -> None:
        """Read the key set again (unless read moments ago); failures keep the old keys."""
        async with self._lock:
            if time.monotonic() - self._fetched_at < JWKS_REFRESH_MIN_INTERVAL_S:
                return
            self._fetched_at = time.monotonic()
            try:
                if self.source.startswith(("http://", "https://")):
                    async with httpx.AsyncClient(timeout=3) as client:
                        response = await client.get(self.source)
                        response.raise_for_status()
                        document = response.json()
                else:
                    # A small local file, read at most every 30 s.
                    document = json.loads(Path(self.source).read_text())  # noqa: ASYNC240
                self.load(document)
            except (OSError, ValueError, httpx.HTTPError, jwt.PyJWKError):
                return


class TokenVerifier:
    """Verifies signature, expiry, issuer and audience, then reads the claims.

    Tokens without a `kid` (or with one no key set knows) are checked against the configured
    PEM key and issuer; tokens whose `kid` is in `jwks` against that key and its issuer.
    """

    def __init__(
        self,
        public_key_pem: bytes,
        *,
        issuer: str,
        audience: str,
        max_lifetime_s: float = MAX_LIFETIME_S,
        jwks: JwksKeys | None = None,
    ) -> None:
        self._key = serialization.load_pem_public_key(public_key_pem)
        self._issuer = issuer
        self._audience = audience
        self._max_lifetime_s = max_lifetime_s
        self._jwks = jwks
        # Verified tokens, until they expire: a client sends the same token with every request,
        # and checking its signature again each time is most of the cost of a small request.
        self._verified: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def from_file(
        cls,
        path: Path,
        *,
        issuer: str,
        audience: str,
        max_lifetime_s: float = MAX_LIFETIME_S,
        jwks: JwksKeys | None = None,
    ) -> TokenVerifier:
        return cls(
            path.read_bytes(),
            issuer=issuer,
            audience=audience,
            max_lifetime_s=max_lifetime_s,
            jwks=jwks,
        )

    def verify(self, token: str) -> Principal:
        """The principal, or `jwt.InvalidTokenError` with the reason."""
        cached = self._verified.get(token)
        if cached is not None:
            principal, valid_until = cached
            if time.time() < valid_until:
                return principal
            del self._verified[token]  # expired: the full check below says so
        principal, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()  # bounded; refilled by the tokens still in use
        self._verified[token] = (principal, expires + LEEWAY_S)
        return principal

    async def verify_async(self, token: str) -> Principal:
        """As `verify`, reading the JWKS again first when the token names an unknown key."""
        try:
            return self.verify(token)
        except UnknownKeyError:
            assert self._jwks is not None
            await self._jwks.refresh()
            return self.verify(token)

    def _verify(self, token: str) -> tuple[Principal, float]:
        key: Any = self._key
        issuer = self._issuer
        if self._jwks is not None:
            kid = jwt.get_unverified_header(token).get("kid")
            if kid is not None:
                found = self._jwks.key(str(kid))
                if found is None:
                    raise UnknownKeyError("the token names an unknown key")
                key, issuer = found, self._jwks.issuer
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            issuer=issuer,
            audience=self._audience,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            leeway=LEEWAY_S,
        )
        lifetime = float(claims["exp"]) - float(claims["iat"])
        if lifetime > self._max_lifetime_s:
            raise jwt.InvalidTokenError(
                f"the token's lifetime exceeds {int(self._max_lifetime_s)} seconds"
            )
        roles = claims.get("roles")
        sites = claims.get("sites", [])
        if not isinstance(roles, list) or not roles:
            raise jwt.InvalidTokenError("the token names no roles")
        if not isinstance(sites, list) or not all(isinstance(s, str) for s in sites):
            raise jwt.InvalidTokenError("sites must be a list of site ids")
        try:
            parsed_roles = frozenset(Role(r) for r in roles)
        except ValueError:
            raise jwt.InvalidTokenError("the token names an unknown role") from None
        principal = Principal(
            subject=str(claims["sub"]),
            roles=parsed_roles,
            sites=frozenset(sites),
            token_id=claims.get("jti"),
        )
        return principal, float(claims["exp"])


def issue_token(
    private_key_pem: bytes,
    *,
    subject: str,
    roles: Iterable[Role | str],
    sites: Iterable[str],
    issuer: str,
    audience: str,
    lifetime: timedelta = timedelta(hours=12),
    now: datetime | None = None,
    key_id: str | None = None,
    token_id: str | None = None,
) -> str:
    """Sign a token: `bilan token` and tests without `key_id`, the console with its key's."""
    issued = now or datetime.now(UTC)
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": [Role(r).value for r in roles],
        "sites": list(sites),
        "iss": issuer,
        "aud": audience,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
    }
    if token_id is not None:
        claims["jti"] = token_id
    headers = {"kid": key_id} if key_id is not None else None
    return jwt.encode(claims, key, algorithm="EdDSA", headers=headers)  # type: ignore[arg-type]


def ensure_dev_key_pair(private_path: Path, public_path: Path) -> None:
    """Create the development signing key pair once."""
    if private_path.exists() and public_path.exists():
        return
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def ensure_signing_key(path: Path) -> None:
    """Make an Ed25519 private key (PKCS 8 PEM, the owner's alone) once, if none is there.

    The console's development signing key; here, not in the console, because the deployment
    tooling also makes it (for the containers' journey) and imports no service."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the verified caller (401 when the token is missing or invalid).

    Dependencies are `async def` on purpose: FastAPI runs a plain `def` one in a worker
    thread, a thread hop per request for a few microseconds of work."""
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return await verifier.verify_async(_bearer_token(request))
    except jwt.ExpiredSignatureError:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the token has expired",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    except jwt.InvalidTokenError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"invalid token: {exc}",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """FastAPI dependency factory: the caller, if they hold one of `roles` (else 403)."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any_role(allowed):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "this action needs one of the roles: " + ", ".join(sorted(allowed)),
            )
        return principal

    return dependency


def token_verifier(settings: Any) -> TokenVerifier:
    """The verifier a service's settings describe: the PEM key, plus the console's JWKS."""
    jwks = None
    if settings.jwt_jwks_source:
        jwks = JwksKeys(settings.jwt_jwks_source, issuer=settings.jwt_jwks_issuer)
    return TokenVerifier.from_file(
        settings.jwt_public_key_file,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        max_lifetime_s=settings.jwt_max_lifetime_s,
        jwks=jwks,
    )


def internal_token_provider(
    configured: str | None,
    *,
    development: bool,
    private_key_file: Path,
    issuer: str,
    audience: str,
) -> Callable[[], str]:
    """Bearer tokens for calls to other services (role `service`).

    Production configures one (from the OIDC provider's client-credentials flow); development
    mints short-lived ones from the development key, renewed before they expire.
    """
    if configured:
        return lambda: configured
    if not development:
        raise ValueError("internal_token is required outside development")
    cache: dict[str, Any] = {}

    def provide() -> str:
        now = datetime.now(UTC)
        if "token" not in cache or cache["renew_at"] <= now:
            cache["token"] = issue_token(
                private_key_file.read_bytes(),
                subject="internal",
                roles=[Role.SERVICE],
                sites=[ALL_SITES],
                issuer=issuer,
                audience=audience,
                lifetime=timedelta(minutes=15),
                now=now,
            )
            cache["renew_at"] = now + timedelta(minutes=10)
        token: str = cache["token"]
        return token

    return provide
