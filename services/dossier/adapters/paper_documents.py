"""Scanned paper documents (a handwritten signature, a written consent), sealed under the
beneficiary's key: what staff record for someone else rests on one of these."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from uuid import UUID

from shared.db import Connection
from shared.keystore import KeyStore

PURPOSE = "paper_document"


async def store(
    conn: Connection,
    keys: KeyStore,
    *,
    beneficiary_id: str,
    dossier_id: str,
    backs: str,
    media_type: str,
    content: bytes,
    recorded_by: str,
    at: datetime,
) -> str:
    """Keep the scan; its id, to be named by the event it backs."""
    document_id = str(uuid.uuid4())
    sealed = await keys.encrypt(
        beneficiary_id, base64.b64encode(content).decode(), purpose=PURPOSE, conn=conn
    )
    await conn.execute(
        """INSERT INTO paper_documents (document_id, dossier_id, backs, media_type, sha256,
                                        sealed, recorded_by, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        UUID(document_id),
        UUID(dossier_id),
        backs,
        media_type,
        hashlib.sha256(content).hexdigest(),
        sealed.text,
        recorded_by,
        at,
    )
    return document_id
