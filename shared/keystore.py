"""Crypto-shredding: a data key per subject, wrapped under the master key.

Personal data and bilan content are stored only as `Sealed` text produced here. Shredding a
subject deletes its data key, which makes every ciphertext under it unreadable for good;
decrypting one then yields `ERASED` instead of failing.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from shared.db import Connection

_PREFIX: Final = "enc:v1:"
_NONCE_BYTES: Final = 12
_SUBJECT_LOCK: Final = "SELECT pg_advisory_xact_lock(hashtextextended($1, 7))"


class Erased:
    """The marker returned for data whose key was shredded."""

    _instance: Erased | None = None

    def __new__(cls) -> Erased:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ERASED"

    def __bool__(self) -> bool:
        return False


ERASED: Final = Erased()


class SubjectErased(Exception):
    """A subject's key was shredded: nothing new may be encrypted for it."""


class KeystoreError(Exception):
    """A ciphertext is malformed, or was not made for this subject and purpose."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """`enc:v1:<base64(nonce | ciphertext | tag)>`: what goes into the database."""

    text: str

    @classmethod
    def is_sealed(cls, value: object) -> bool:
        return isinstance(value, str) and value.startswith(_PREFIX)


class KeyStore:
    """Data keys in the `data_keys` table of a service's database."""

    def __init__(self, pool: asyncpg.Pool, master_key: bytes, master_key_id: str) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._pool = pool
        self._master_key = master_key
        self._master_key_id = master_key_id

    async def encrypt(
        self,
        subject_id: str,
        plaintext: str,
        *,
        purpose: str,
        conn: Connection | None = None,
    ) -> Sealed:
        """Encrypt under the subject's key, created on first use.

        `purpose` (e.g. "identity.email") is bound into the ciphertext as associated data, so a
        value cannot be moved to another subject or field unnoticed.
        """
        (sealed,) = await self.encrypt_many(subject_id, [(plaintext, purpose)], conn=conn)
        return sealed

    async def encrypt_many(
        self,
        subject_id: str,
        values: Sequence[tuple[str, str]],
        *,
        conn: Connection | None = None,
        new_subject: bool = False,
    ) -> list[Sealed]:
        """Encrypt several (plaintext, purpose) pairs of one subject, looking its key up once.

        `new_subject=True` is for an id the caller has just generated (a random UUID nobody
        else knows yet): it can have neither a key nor a tombstone, so the key is created with
        one INSERT instead of a lookup, a lock and a check. An id that was not new makes the
        INSERT fail (unique key) rather than replace a key.
        """
        if new_subject:
            key, wrapped = self._new_data_key()
            await (self._pool if conn is None else conn).execute(
                "INSERT INTO data_keys (subject_id, kek_id, wrapped_key) VALUES ($1, $2, $3)",
                subject_id,
                self._master_key_id,
                wrapped,
            )
        else:
            found = await self._data_key(subject_id, create=True, conn=conn)
            assert found is not None
            key = found
        cipher = AESGCM(key)
        sealed = []
        for plaintext, purpose in values:
            nonce = os.urandom(_NONCE_BYTES)
            box = cipher.encrypt(nonce, plaintext.encode(), _aad(subject_id, purpose))
            sealed.append(Sealed(_PREFIX + base64.b64encode(nonce + box).decode()))
        return sealed

    async def decrypt(
        self,
        subject_id: str,
        sealed: Sealed | str,
        *,
        purpose: str,
        conn: Connection | None = None,
    ) -> str | Erased:
        """The plaintext, or `ERASED` when the subject's key was shredded."""
        text = sealed.text if isinstance(sealed, Sealed) else sealed
        if not text.startswith(_PREFIX):
            raise KeystoreError("not a sealed value")
        key = await self._data_key(subject_id, create=False, conn=conn)
        if key is None:
            return ERASED
        raw = base64.b64decode(text[len(_PREFIX) :])
        try:
            plain = AESGCM(key).decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(subject_id, purpose)
            )
        except InvalidTag:
            raise KeystoreError("the value was not sealed for this subject and purpose") from None
        return plain.decode()

    async def shred(self, subject_id: str, *, conn: Connection | None = None) -> bool:
        """Destroy the subject's key; returns False when it had none. Cannot be undone."""
        now = datetime.now(UTC)
        if conn is None:
            async with self._pool.acquire() as own:
                return await self.shred(subject_id, conn=own)
        async with conn.transaction():
            # The same lock as key creation: a key cannot be created between the delete and
            # the tombstone.
            await conn.execute(_SUBJECT_LOCK, subject_id)
            deleted = await conn.fetchval(
                "WITH gone AS (DELETE FROM data_keys WHERE subject_id = $1 RETURNING 1) "
                "SELECT count(*) FROM gone",
                subject_id,
            )
            await conn.execute(
                """INSERT INTO shredded_subjects (subject_id, shredded_at) VALUES ($1, $2)
                   ON CONFLICT (subject_id) DO NOTHING""",
                subject_id,
                now,
            )
        return bool(deleted)

    async def vacuum(self) -> None:
        """Reclaim the dead row versions that still hold shredded wrapped keys.

        A DELETE leaves the old row on disk until VACUUM; call this after shredding, outside
        any transaction.
        """
        await self._pool.execute("VACUUM data_keys")

    async def is_shredded(self, subject_id: str) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT true FROM shredded_subjects WHERE subject_id = $1", subject_id
            )
        )

    async def _data_key(
        self, subject_id: str, *, create: bool, conn: Connection | None
    ) -> bytes | None:
        if conn is None:
            async with self._pool.acquire() as own:
                return await self._data_key(subject_id, create=create, conn=own)
        row = await conn.fetchrow(
            "SELECT kek_id, wrapped_key FROM data_keys WHERE subject_id = $1", subject_id
        )
        if row is None:
            if not create:
                return None
            row = await self._create_key(conn, subject_id)
        if row["kek_id"] != self._master_key_id:
            raise KeystoreError(f"data key wrapped under unknown master key {row['kek_id']!r}")
        try:
            return aes_key_unwrap(self._master_key, bytes(row["wrapped_key"]))
        except InvalidUnwrap:
            raise KeystoreError("the master key does not unwrap this data key") from None

    def _new_data_key(self) -> tuple[bytes, bytes]:
        """A fresh data key, and the same wrapped under the master key (what is stored)."""
        key = AESGCM.generate_key(bit_length=256)
        return key, aes_key_wrap(self._master_key, key)

    async def _create_key(self, conn: Connection, subject_id: str) -> asyncpg.Record:
        if not conn.is_in_transaction():
            async with conn.transaction():
                return await self._create_key(conn, subject_id)
        # The lock is held to the end of the caller's transaction (no savepoint needed), and
        # the tombstone is read by a statement after it, so it sees a shred that committed
        # while this waited.
        await conn.execute(_SUBJECT_LOCK, subject_id)
        if await conn.fetchval(
            "SELECT true FROM shredded_subjects WHERE subject_id = $1", subject_id
        ):
            raise SubjectErased(subject_id)
        _, wrapped = self._new_data_key()
        # Another writer may have created it first: whichever row won is the key, and the
        # no-op update makes RETURNING give that row in the same round trip.
        row = await conn.fetchrow(
            """INSERT INTO data_keys (subject_id, kek_id, wrapped_key) VALUES ($1, $2, $3)
               ON CONFLICT (subject_id) DO UPDATE SET subject_id = EXCLUDED.subject_id
               RETURNING kek_id, wrapped_key""",
            subject_id,
            self._master_key_id,
            wrapped,
        )
        assert row is not None
        return row


def _aad(subject_id: str, purpose: str) -> bytes:
    return f"bilan:{subject_id}:{purpose}".encode()
