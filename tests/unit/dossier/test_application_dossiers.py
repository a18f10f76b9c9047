"""The dossier command handlers on the in-memory event store and a fake clock: what opening,
conventions and a stale or refused command record, publish and schedule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest

from services.dossier.api import REFUSAL_STATUS
from services.dossier.application.dossiers import DossierCommands, constant
from services.dossier.domain import dossier as d
from services.dossier.domain.errors import NOT_FOUND, DomainError
from services.dossier.settings import Settings
from shared.aggregate import RefusalKind
from shared.eventstore import ConcurrencyError
from tests.unit.application_fakes import T0, FakeConnection, FakeRuntime
from tests.unit.dossier.builders import MENTIONS

SITE = "5b1f7e8a-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
CONVENTION = "0e0c2f5e-8f8b-4f57-9a51-4d7e3b0b8a11"
NAME, EMAIL = "Camille Martin", "camille@example.org"


def _commands() -> tuple[DossierCommands, FakeRuntime, Any]:
    runtime = FakeRuntime()
    return DossierCommands(cast(Any, runtime), Settings()), runtime, FakeConnection()


async def _open(commands: DossierCommands, conn: Any) -> str:
    outcome, _ = await commands.open_dossier(
        conn,
        site_id=SITE,
        funding_route="employer_plan",
        enquiry_received_at=T0,
        beneficiary_id=None,
        identity=(NAME, EMAIL, None),
    )
    assert outcome.state is not None
    return outcome.state.dossier_id


async def test_opening_registers_the_beneficiary_sealed_and_publishes_the_opening() -> None:
    commands, runtime, conn = _commands()
    dossier_id = await _open(commands, conn)
    dossier = await runtime.stream(f"dossier-{dossier_id}")
    assert [e.type for e in dossier] == ["DossierOpened"]
    beneficiary_id = dossier[0].data["beneficiary_id"]
    (registered,) = await runtime.stream(f"beneficiary-{beneficiary_id}")
    assert registered.type == "BeneficiaryRegistered"
    assert NAME not in str(registered.data)
    assert EMAIL not in str(registered.data)
    assert "DossierOpened" in runtime.published()
    assert {purpose for _, purpose in runtime.keys.sealed} == {"identity.name", "identity.email"}
    assert conn.wrote("dossier_index")


async def test_a_convention_sent_for_signature_gets_its_acceptance_deadline() -> None:
    commands, runtime, conn = _commands()
    dossier_id = await _open(commands, conn)
    at = runtime.clock.now()
    steps: list[d.Command] = [
        d.AcknowledgeDeontology(1, frozenset({1}), at),
        d.AgreeProgramme(1200, "mixed", at),
        d.DraftConvention(CONVENTION, "tripartite", MENTIONS, 1200, 180000, at),
        d.SendConvention(CONVENTION, timedelta(days=10), at),
    ]
    for version, command in enumerate(steps, start=1):
        outcome = await commands.execute(
            conn, dossier_id, constant(command), expected_version=version
        )
        assert outcome.version == version + 1
    assert [e.type for e in outcome.events] == ["ConventionSentForSignature"]
    assert outcome.state is not None
    assert outcome.state.conventions[0].status == "sent"
    assert conn.wrote("timers")  # the convention's acceptance deadline, in the same transaction
    assert runtime.published()[-1] == "ConventionSentForSignature"


async def test_a_stale_or_refused_command_records_nothing() -> None:
    commands, runtime, conn = _commands()
    dossier_id = await _open(commands, conn)
    published = runtime.published()
    agree = constant(d.AgreeProgramme(1200, "mixed", T0))
    with pytest.raises(ConcurrencyError):
        await commands.execute(conn, dossier_id, agree, expected_version=3)
    with pytest.raises(DomainError) as refused:
        await commands.execute(
            conn,
            dossier_id,
            constant(d.SendConvention("conv-9", timedelta(days=10), T0)),
            expected_version=1,
        )
    assert refused.value.code == "convention_not_found"

    def nobody(_state: d.Dossier | None) -> None:
        raise DomainError("dossier_not_found", "no such dossier", kind=NOT_FOUND)

    with pytest.raises(DomainError):
        await commands.execute(conn, dossier_id, agree, expected_version=1, authorize=nobody)
    assert await runtime.types(f"dossier-{dossier_id}") == ["DossierOpened"]
    assert runtime.published() == published


def test_the_api_answers_each_kind_with_the_status_a_refusal_names() -> None:
    for kind in RefusalKind:
        assert REFUSAL_STATUS[kind] == DomainError("code", "detail", kind=kind).status
