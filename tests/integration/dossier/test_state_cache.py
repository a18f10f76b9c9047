"""The dossier service keeps the last committed state of the dossiers it writes, and never
lets that cache decide a command on a state the database does not hold."""

from __future__ import annotations

from typing import Any

import pytest

from services.dossier.application.dossiers import DossierCommands, constant
from services.dossier.domain import dossier as d
from shared.unit_of_work import unit_of_work
from tests.integration.dossier.harness import Harness

PROGRAMME = {"planned_minutes": 1200, "modality": "mixed"}


def _count_stream_reads(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    store = harness.service.commands.store
    reads: list[str] = []
    real = store.read_stream

    async def counting(stream_id: str, **kwargs: Any) -> Any:
        reads.append(stream_id)
        return await real(stream_id, **kwargs)

    monkeypatch.setattr(store, "read_stream", counting)
    return reads


async def _programme(harness: Harness, dossier: str, version: int, expect: int) -> int:
    response = await harness.call(
        "PUT",
        f"/dossiers/{dossier}/programme",
        harness.as_consultant(),
        PROGRAMME,
        expect=expect,
        version=version,
    )
    return int(response.json()["version"]) if expect == 200 else version


async def test_a_command_at_the_version_just_written_does_not_read_the_stream(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    dossier, _ = await harness.open_dossier()
    reads = _count_stream_reads(harness, monkeypatch)
    version = await _programme(harness, dossier, 1, 200)
    latest = await _programme(harness, dossier, version, 200)
    assert latest == version + 1
    assert reads == [], "opened and written by this process: its state is cached"
    # A stale If-Match is still refused: the append checks the version in the database.
    await _programme(harness, dossier, version, 409)


async def test_a_write_by_another_process_is_never_hidden_by_the_cache(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    dossier, _ = await harness.open_dossier()
    version = await _programme(harness, dossier, 1, 200)
    # Another replica of the service (its own cache) appends the next version.
    other = DossierCommands(harness.service.runtime, harness.service.settings)
    command = d.AgreeProgramme(600, "remote", harness.clock.now())
    async with unit_of_work(harness.service.pool) as conn:
        await other.execute(conn, dossier, constant(command), expected_version=version)
    await _programme(harness, dossier, version, 409)  # this process's cached version is stale
    assert await harness.version(dossier) == version + 1
    reads = _count_stream_reads(harness, monkeypatch)
    await _programme(harness, dossier, version + 1, 200)
    assert reads == [f"dossier-{dossier}"], "a version this process did not write is read"


async def test_a_rolled_back_command_leaves_no_state_behind(harness: Harness) -> None:
    dossier, _ = await harness.open_dossier()
    version = await _programme(harness, dossier, 1, 200)
    commands = harness.service.commands
    command = d.AgreeProgramme(600, "remote", harness.clock.now())

    async def fails_after_the_append() -> None:
        async with unit_of_work(harness.service.pool) as conn:
            await commands.execute(conn, dossier, constant(command), expected_version=version)
            raise RuntimeError("a failure after the append")

    with pytest.raises(RuntimeError, match="after the append"):
        await fails_after_the_append()
    # The version that was never committed is not accepted, the committed one is.
    await _programme(harness, dossier, version + 1, 409)
    await _programme(harness, dossier, version, 200)
    view = await harness.call("GET", f"/dossiers/{dossier}", harness.as_consultant())
    assert (view.json()["modality"], view.json()["planned_minutes"]) == ("mixed", 1200)
