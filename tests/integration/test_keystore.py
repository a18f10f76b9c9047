"""Crypto-shredding against the real database, down to the bytes on disk."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
import pytest

from shared.keystore import ERASED, KeyStore, KeystoreError, Sealed, SubjectErased

MASTER = os.urandom(32)


async def _raw_table_bytes(pool: asyncpg.Pool) -> bytes:
    """Every relation file (tables, TOAST, indexes) of the database, as stored on disk."""
    await pool.execute("CHECKPOINT")
    data_dir = Path(await pool.fetchval("SHOW data_directory"))
    paths = await pool.fetch(
        """SELECT pg_relation_filepath(c.oid) AS path FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 't', 'i')"""
    )
    toast = await pool.fetch(
        """SELECT pg_relation_filepath(c.reltoastrelid) AS path FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.reltoastrelid <> 0"""
    )
    chunks = []
    for row in [*paths, *toast]:
        base = data_dir / row["path"]
        for segment in sorted(base.parent.glob(base.name + "*")):
            chunks.append(segment.read_bytes())
    assert chunks, "no relation file was read"
    return b"".join(chunks)


async def test_encrypt_decrypt_and_shred(pool: asyncpg.Pool) -> None:
    keys = KeyStore(pool, MASTER, "test")
    subject = str(uuid.uuid4())
    other = str(uuid.uuid4())
    secret = f"Camille Durand-{uuid.uuid4().hex[:8]} camille@example.fr"
    sealed = await keys.encrypt(subject, secret, purpose="identity")
    kept = await keys.encrypt(other, "Another person", purpose="identity")
    assert Sealed.is_sealed(sealed.text)
    assert secret not in sealed.text
    assert await keys.decrypt(subject, sealed, purpose="identity") == secret
    # Bound to its subject and purpose: moving a value elsewhere is detected.
    with pytest.raises(KeystoreError):
        await keys.decrypt(subject, sealed, purpose="contact")
    with pytest.raises(KeystoreError):
        await keys.decrypt(other, sealed, purpose="identity")

    # Store the ciphertext as a service would, then shred.
    await pool.execute("CREATE TABLE notes (subject text, body text)")
    await pool.execute("INSERT INTO notes VALUES ($1, $2)", subject, sealed.text)
    wrapped = bytes(
        await pool.fetchval("SELECT wrapped_key FROM data_keys WHERE subject_id = $1", subject)
    )
    assert await keys.shred(subject) is True
    assert await keys.shred(subject) is False
    await keys.vacuum()

    assert await keys.decrypt(subject, sealed, purpose="identity") is ERASED
    assert await keys.decrypt(other, kept, purpose="identity") == "Another person"
    assert await keys.is_shredded(subject)
    with pytest.raises(SubjectErased):
        await keys.encrypt(subject, "new data after erasure", purpose="identity")

    raw = await _raw_table_bytes(pool)
    assert b"Camille" not in raw
    assert secret.encode() not in raw
    assert sealed.text.encode() in raw, "the scan reads the tables (the ciphertext is there)"
    assert wrapped not in raw, "the shredded data key is gone from the table files"


async def test_wrong_master_key_is_refused(pool: asyncpg.Pool) -> None:
    subject = str(uuid.uuid4())
    sealed = await KeyStore(pool, MASTER, "test").encrypt(subject, "x", purpose="p")
    with pytest.raises(KeystoreError):
        await KeyStore(pool, os.urandom(32), "test").decrypt(subject, sealed, purpose="p")
    with pytest.raises(KeystoreError):
        await KeyStore(pool, MASTER, "rotated").decrypt(subject, sealed, purpose="p")


async def test_concurrent_first_uses_agree_on_one_key(pool: asyncpg.Pool) -> None:
    keys = KeyStore(pool, MASTER, "k1")
    subject = str(uuid.uuid4())

    async def seal(i: int) -> Sealed:
        async with pool.acquire() as conn:
            if i % 2:  # half inside a caller's transaction, half on their own
                async with conn.transaction():
                    return await keys.encrypt(subject, f"value {i}", purpose="p", conn=conn)
            return await keys.encrypt(subject, f"value {i}", purpose="p", conn=conn)

    sealed = await asyncio.gather(*(seal(i) for i in range(16)))
    assert await pool.fetchval("SELECT count(*) FROM data_keys WHERE subject_id = $1", subject) == 1
    assert [await keys.decrypt(subject, s, purpose="p") for s in sealed] == [
        f"value {i}" for i in range(16)
    ]


async def test_several_fields_are_sealed_under_one_key_each_bound_to_its_purpose(
    pool: asyncpg.Pool,
) -> None:
    keys = KeyStore(pool, MASTER, "k1")
    subject = str(uuid.uuid4())
    name, email = await keys.encrypt_many(
        subject, [("Zéphyrine", "identity.name"), ("z@example.org", "identity.email")]
    )
    assert await keys.decrypt(subject, name, purpose="identity.name") == "Zéphyrine"
    assert await keys.decrypt(subject, email, purpose="identity.email") == "z@example.org"
    with pytest.raises(KeystoreError):
        await keys.decrypt(subject, email, purpose="identity.name")


async def test_no_key_is_created_for_a_shredded_subject(pool: asyncpg.Pool) -> None:
    keys = KeyStore(pool, MASTER, "k1")
    subject = str(uuid.uuid4())
    await keys.encrypt(subject, "before", purpose="p")
    assert await keys.shred(subject)
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(SubjectErased):
            await keys.encrypt(subject, "after", purpose="p", conn=conn)
    with pytest.raises(SubjectErased):
        await keys.encrypt(subject, "after", purpose="p")
    assert await pool.fetchval("SELECT count(*) FROM data_keys WHERE subject_id = $1", subject) == 0


async def test_a_new_subject_gets_its_key_in_one_insert_and_never_a_second_one(
    pool: asyncpg.Pool,
) -> None:
    keys = KeyStore(pool, MASTER, "k1")
    subject = str(uuid.uuid4())
    (sealed,) = await keys.encrypt_many(subject, [("Zoé", "identity.name")], new_subject=True)
    assert await keys.decrypt(subject, sealed, purpose="identity.name") == "Zoé"
    # Later uses find that key; an id wrongly claimed as new cannot replace it.
    again = await keys.encrypt(subject, "Zoé B.", purpose="identity.name")
    assert await keys.decrypt(subject, again, purpose="identity.name") == "Zoé B."
    with pytest.raises(asyncpg.UniqueViolationError):
        await keys.encrypt_many(subject, [("x", "identity.name")], new_subject=True)
    assert await keys.decrypt(subject, sealed, purpose="identity.name") == "Zoé"
