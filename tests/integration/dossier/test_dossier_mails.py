"""The dossier service mails the beneficiary a convention to sign, a convention deemed
refused and the delivered synthesis: once each (across a restart and a crash between the
SMTP step and its record), in French, with the centre's contact and the console page; never
the bilan's content, never to an erased beneficiary or one whose processing is restricted."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage, Message

import pytest

from deploy.tokens import dev_token
from services.dossier.api.deps import DossierService
from shared.clock import FakeClock
from shared.mail import SmtpTransport
from tests.integration.dossier.harness import IDENTITY, MENTIONS, Harness, eventually
from tests.integration.harness import DOSSIER, NOW, ServiceHarness
from tests.integration.smtp_server import SmtpServer

DossierHarness = ServiceHarness[DossierService]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def service(db_dsn: str, kafka_bootstrap: str, smtp: SmtpServer) -> DossierHarness:
    return ServiceHarness(
        DOSSIER, db_dsn, kafka_bootstrap, clock=FakeClock(NOW), smtp_port=smtp.port
    )


@asynccontextmanager
async def running(service: DossierHarness, *, background: bool = True) -> AsyncIterator[Harness]:
    async with service.running(background=background) as svc:
        yield Harness.of(svc, service.kafka_bootstrap)


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")


def _service_token() -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(['service'], ['*'], subject='internal')}"}


async def _send_convention(h: Harness, dossier: str) -> str:
    drafted = await h.command(
        f"/dossiers/{dossier}/conventions",
        h.as_manager(),
        {"kind": "tripartite", **MENTIONS, "duration_minutes": 1200, "price_cents": 150000},
        dossier_id=dossier,
        expect=201,
    )
    convention = str(drafted.headers["location"].rsplit("/", 1)[1])
    await h.command(
        f"/dossiers/{dossier}/conventions/{convention}/sending", h.as_manager(), dossier_id=dossier
    )
    return convention


async def _data_request(h: Harness, beneficiary: str, kind: str) -> None:
    """The beneficiary asks (`kind`), and the data-protection officer fulfils it."""
    ben = h.auth("beneficiary", beneficiary)
    current = await h.call("GET", f"/beneficiaries/{beneficiary}", ben)
    made = await h.call(
        "POST",
        f"/beneficiaries/{beneficiary}/data-requests",
        ben,
        {"kind": kind},
        expect=201,
        version=int(current.headers["etag"].strip('"')),
    )
    request = made.headers["location"].rsplit("/", 1)[1]
    admin = h.auth("admin", "dpo")
    current = await h.call("GET", f"/beneficiaries/{beneficiary}", admin)
    await h.call(
        "POST",
        f"/beneficiaries/{beneficiary}/data-requests/{request}/fulfilment",
        admin,
        {},
        version=int(current.headers["etag"].strip('"')),
    )


async def test_convention_and_synthesis_mails_arrive_once_each_in_french(
    service: DossierHarness,
    smtp: SmtpServer,
) -> None:
    async with running(service) as h:
        await h.staff_known()
        dossier, _beneficiary = await h.signed_dossier()
        await eventually(lambda: _async(len(smtp.messages) == 1), what="the convention's mail")
        (sent,) = smtp.messages
        assert sent["To"] == IDENTITY["email"]
        assert _subject(sent) == "Votre convention de bilan de compétences est prête à signer"
        text = _body(sent)
        assert f"Bonjour {IDENTITY['name']}," in text
        assert f"http://127.0.0.1:8000/mon-bilan/{dossier}/convention" in text
        assert "avant le 12/03/2026 à 10:00" in text, "ten days, in Paris time"
        assert "Téléphone : 01 23 45 67 89" in text
        assert "E-mail : contact@bilan.localhost" in text
        assert "contact@bilan.localhost" in str(sent["Reply-To"])

        url = f"/dossiers/{dossier}"
        await h.command(
            f"{url}/referent",
            h.as_manager(),
            {"consultant_id": h.consultant, "reason": "initial"},
            dossier_id=dossier,
            method="PUT",
        )
        for phase, minutes in (("preliminary", 120), ("investigation", 600)):
            await h.command(f"{url}/phases/{phase}/start", h.as_consultant(), dossier_id=dossier)
            await h.session_held(dossier, phase, minutes)
            await h.command(
                f"{url}/phases/{phase}/completion", h.as_consultant(), dossier_id=dossier
            )
        await h.command(f"{url}/phases/conclusion/start", h.as_consultant(), dossier_id=dossier)
        await h.session_held(dossier, "conclusion", 180)
        await h.command(f"{url}/detailed-results-handover", h.as_consultant(), dossier_id=dossier)
        await h.command(
            f"{url}/synthesis/drafts",
            h.as_consultant(),
            {"content": "Synthèse confidentielle : reconversion vers l'enseignement"},
            dossier_id=dossier,
            expect=201,
        )
        await h.command(
            f"{url}/synthesis/delivery",
            h.as_consultant(),
            {"channel": "secure_download"},
            dossier_id=dossier,
        )
        await eventually(lambda: _async(len(smtp.messages) == 2), what="the synthesis's mail")
        delivered = smtp.messages[1]
        assert _subject(delivered) == "Votre document de synthèse est disponible"
        text = _body(delivered)
        assert f"http://127.0.0.1:8000/mon-bilan/{dossier}/synthese" in text
        assert "reconversion" not in text, "never the content"

    # Restarted with its loops stopped: the mail step finds nothing to send again.
    async with running(service, background=False) as h:
        mail = h.service.runtime.mail
        assert mail is not None
        assert await mail.recover() == 0
        assert await mail.send_due() == 0
        assert len(smtp.messages) == 2
        stored = str(await h.service.runtime.pool.fetch("SELECT * FROM mail_outbox"))
        assert IDENTITY["email"] not in stored, "the address was used, never stored"


async def test_silence_until_the_deadline_is_mailed_as_a_refusal(
    service: DossierHarness,
    smtp: SmtpServer,
) -> None:
    async with running(service, background=False) as h:
        mail = h.service.runtime.mail
        assert mail is not None
        dossier, _ = await h.open_dossier()
        await _send_convention(h, dossier)
        assert await mail.send_due() == 1
        h.clock.advance(timedelta(days=10, minutes=1))
        assert await h.service.runtime.timers.fire_due() >= 1
        assert await mail.send_due() == 1
        refused = smtp.messages[1]
        assert _subject(refused) == (
            "Votre convention de bilan de compétences n'a pas été signée à temps"
        )
        text = _body(refused)
        assert "réputée refusée" in text
        assert "a pris fin le 12/03/2026 à 10:00" in text
        assert f"/mon-bilan/{dossier}/convention" in text
        # The timer's handler run again (a redelivery) queues nothing more.
        assert await h.service.runtime.timers.fire_due() == 0
        assert await mail.send_due() == 0
        assert len(smtp.messages) == 2


async def test_no_mail_to_an_erased_or_restricted_beneficiary(
    service: DossierHarness,
    smtp: SmtpServer,
) -> None:
    async with running(service, background=False) as h:
        mail = h.service.runtime.mail
        assert mail is not None
        # Erased between the sending of the convention and the mail loop's turn.
        erased, erased_person = await h.open_dossier()
        await _send_convention(h, erased)
        await h.command(
            f"/dossiers/{erased}/abandonment",
            h.as_manager(),
            {"reason_category": "personal", "initiated_by": "beneficiary"},
            dossier_id=erased,
        )
        await _data_request(h, erased_person, "erasure")
        # Restricted before the deadline: the refusal is recorded, and not mailed.
        restricted, restricted_person = await h.open_dossier()
        await _send_convention(h, restricted)
        await _data_request(h, restricted_person, "restriction")
        assert await mail.send_due() == 2
        assert smtp.messages == []
        gone = await h.call(
            "GET", f"/internal/dossiers/{restricted}/contact", _service_token(), expect=410
        )
        assert gone.json()["code"] == "processing_restricted"
        h.clock.advance(timedelta(days=10, minutes=1))
        await h.service.runtime.timers.fire_due()
        view = await h.call(
            "GET", f"/dossiers/{restricted}", h.auth("beneficiary", restricted_person)
        )
        assert view.json()["convention"]["status"] == "refused"
        assert await mail.send_due() == 0
        assert smtp.messages == []
        states = await h.service.runtime.pool.fetch(
            "SELECT recipient_ref, state FROM mail_outbox ORDER BY id"
        )
        assert [(r["recipient_ref"], r["state"]) for r in states] == [
            (erased, "failed"),
            (restricted, "failed"),
        ]


class Crash(BaseException):
    """The process dies: nothing after it runs (not an Exception the sender would handle)."""


async def test_a_crash_between_sending_and_recording_never_sends_it_again(
    service: DossierHarness,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_send = SmtpTransport.send

    async def send_then_die(self: SmtpTransport, message: EmailMessage) -> None:
        await real_send(self, message)
        raise Crash

    async with running(service, background=False) as h:
        mail = h.service.runtime.mail
        assert mail is not None
        dossier, _ = await h.open_dossier()
        await _send_convention(h, dossier)
        monkeypatch.setattr(SmtpTransport, "send", send_then_die)
        with pytest.raises(Crash):
            await mail.send_due()
        monkeypatch.undo()
        assert len(smtp.messages) == 1

    async with running(service, background=False) as h:
        mail = h.service.runtime.mail
        assert mail is not None
        assert await mail.recover() == 1
        assert await mail.send_due() == 0
        assert len(smtp.messages) == 1, "never sent twice"
        state = await h.service.runtime.pool.fetchval("SELECT state FROM mail_outbox")
        assert state == "uncertain"


async def _async(value: bool) -> bool:
    return value
