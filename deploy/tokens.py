"""Development access tokens, signed with a key pair kept under `.data/keys`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from shared.auth import ALL_SITES, Role, ensure_dev_key_pair, issue_token
from shared.settings import DEV_JWT_PRIVATE_KEY_FILE, DEV_JWT_PUBLIC_KEY_FILE, ServiceSettings


def dev_token(
    roles: Sequence[str],
    sites: Sequence[str] = (),
    subject: str | None = None,
    lifetime: timedelta = timedelta(hours=12),
) -> str:
    """A token the local services accept (same issuer and audience as their defaults)."""
    ensure_dev_key_pair(DEV_JWT_PRIVATE_KEY_FILE, DEV_JWT_PUBLIC_KEY_FILE)
    defaults = ServiceSettings()
    return issue_token(
        DEV_JWT_PRIVATE_KEY_FILE.read_bytes(),
        subject=subject or str(uuid.uuid4()),
        roles=[Role(r) for r in roles],
        sites=list(sites) or [ALL_SITES],
        issuer=defaults.jwt_issuer,
        audience=defaults.jwt_audience,
        lifetime=lifetime,
    )
