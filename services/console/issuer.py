"""The console as issuer of the short-lived access tokens the services verify.

Its Ed25519 key signs every token with the key's RFC 7638 thumbprint as `kid`; the public half
is published as a JWKS (`/.well-known/jwks.json`) that the services read
(`BILAN_<SERVICE>_JWT_JWKS_SOURCE`). Tokens live minutes: a person's session lives in the
console, and each call to a service carries a fresh token of theirs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# ensure_signing_key is re-exported: the console's key, made by the platform's helper.
from shared.auth import ensure_signing_key as ensure_signing_key
from shared.auth import issue_token


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TokenIssuer:
    """Signs access tokens for signed-in people."""

    def __init__(self, private_key_pem: bytes, *, issuer: str, audience: str) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the console's signing key must be Ed25519")
        self._pem = private_key_pem
        public = key.public_key()
        self._x = _b64url(
            public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        self.key_id = thumbprint(public)
        self.issuer = issuer
        self.audience = audience

    @classmethod
    def from_file(cls, path: Path, *, issuer: str, audience: str) -> TokenIssuer:
        return cls(path.read_bytes(), issuer=issuer, audience=audience)

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": self._x,
                    "kid": self.key_id,
                    "alg": "EdDSA",
                    "use": "sig",
                }
            ]
        }

    def issue(
        self,
        *,
        subject: str,
        roles: Iterable[str],
        sites: Iterable[str],
        lifetime: timedelta,
        now: datetime,
    ) -> str:
        return issue_token(
            self._pem,
            subject=subject,
            roles=roles,
            sites=sites,
            issuer=self.issuer,
            audience=self.audience,
            lifetime=lifetime,
            now=now,
            key_id=self.key_id,
            token_id=str(uuid.uuid4()),
        )


def thumbprint(public: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint: SHA-256 of the canonical JSON of the required members."""
    x = _b64url(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())
