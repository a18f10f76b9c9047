"""From their space, the beneficiary moves a coming session to one of the consultant's free
slots, or warns of an absence, with a reason: the consultant's mail reaches the SMTP server,
the change is the beneficiary's, and another beneficiary's session is not found."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from email.header import decode_header, make_header
from typing import Any

import httpx

from deploy.tokens import dev_token
from tests.integration.console.conftest import Console, body_of, csrf_of, sign_in
from tests.integration.console.test_staff_sign_in import onboard, open_site
from tests.integration.scheduling.harness import eventually

WORDS = "Je serai en formation à Nantes ce jour-là."
RADIO = re.compile(r'name="starts_at" value="([^"]+)"')


async def _dossier_at(c: Console, site_id: str, email: str) -> tuple[str, str]:
    manager = {"Authorization": f"Bearer {dev_token(['site_manager'], [site_id])}"}
    made = await c.dossier.post(
        "/dossiers",
        headers=manager,
        json={
            "site_id": site_id,
            "funding_route": "employer_plan",
            "enquiry_received_at": (c.clock.now() - timedelta(days=3)).isoformat(),
            "name": "Camille Martin",
            "email": email,
        },
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"]), made.headers["x-beneficiary-id"]


async def _with_session(
    c: Console,
    scheduling: httpx.AsyncClient,
    site_id: str,
    consultant: str,
    email: str,
    hour: int = 9,
) -> tuple[str, str, dict[str, Any]]:
    """A dossier whose referent is `consultant`, with an information session in three days."""
    dossier_id, beneficiary_id = await _dossier_at(c, site_id, email)
    manager = {"Authorization": f"Bearer {dev_token(['site_manager'], [site_id])}"}

    async def named() -> bool:
        # The dossier service learns the consultant over Kafka first.
        read = await c.dossier.get(f"/dossiers/{dossier_id}", headers=manager)
        done = await c.dossier.put(
            f"/dossiers/{dossier_id}/referent",
            json={"consultant_id": consultant, "reason": "initial"},
            headers={**manager, "If-Match": read.headers["etag"]},
        )
        tried.append(done.text)
        return done.status_code == 200

    tried: list[str] = []
    try:
        await eventually(named, timeout_s=60)
    except TimeoutError:
        raise AssertionError(tried[-1:]) from None
    me = {"Authorization": f"Bearer {dev_token(['consultant'], [site_id], subject=consultant)}"}
    starts = (c.clock.now() + timedelta(days=3)).replace(hour=hour, minute=0)

    last: list[str] = []

    async def booked() -> dict[str, Any] | None:
        made = await scheduling.post(
            f"/dossiers/{dossier_id}/sessions",
            json={
                "phase": "information",
                "modality": "remote",
                "consultant_id": consultant,
                "starts_at": starts.isoformat(),
                "planned_minutes": 60,
            },
            headers=me,
        )
        last.append(made.text)
        return dict(made.json()) if made.status_code == 201 else None

    try:
        session = await eventually(booked, timeout_s=60)
    except TimeoutError:
        raise AssertionError(last[-1:]) from None
    return dossier_id, beneficiary_id, session


async def test_the_beneficiary_moves_a_session_and_the_consultant_is_told(
    console: Console,
) -> None:
    c = console
    assert c.scheduling is not None
    site_id = await open_site(c.scheduling)
    consultant_address = f"claire.{uuid.uuid4().hex[:8]}@centre-bilan.fr"
    consultant = await onboard(c.scheduling, site_id, consultant_address, ("consultant",))
    mine = f"camille.{uuid.uuid4().hex[:8]}@example.org"
    dossier_id, _me, session = await _with_session(c, c.scheduling, site_id, consultant, mine)
    _other_dossier, _other, theirs = await _with_session(
        c,
        c.scheduling,
        site_id,
        consultant,
        f"dominique.{uuid.uuid4().hex[:8]}@example.org",
        hour=12,
    )
    change = f"/mon-bilan/{dossier_id}/seances/{session['session_id']}/changer"
    async with c.browser() as browser:
        await sign_in(c, mine, browser)
        bilan = await browser.get(f"/mon-bilan/{dossier_id}")
        assert change in bilan.text
        page = await browser.get(change)
        assert page.status_code == 200
        assert "Déplacer cette séance" in page.text
        offered = RADIO.findall(page.text)
        assert offered, "the consultant's free times are offered"
        assert session["starts_at"] not in offered

        # Someone else's session, even under my dossier's address: not found.
        foreign = await browser.get(
            f"/mon-bilan/{dossier_id}/seances/{theirs['session_id']}/changer"
        )
        assert foreign.status_code == 404
        token = await csrf_of(browser, change)
        stolen = await browser.post(
            f"/mon-bilan/{dossier_id}/seances/{theirs['session_id']}/deplacement",
            data={"starts_at": offered[0], "move_message": WORDS, "csrf_token": token},
        )
        assert stolen.status_code == 404

        # The reason is required: said next to the field, nothing changes.
        missing = await browser.post(
            f"/mon-bilan/{dossier_id}/seances/{session['session_id']}/deplacement",
            data={"starts_at": offered[0], "move_message": "  ", "csrf_token": token},
        )
        assert missing.status_code == 422
        assert 'id="err-move_message"' in missing.text
        assert "Indiquez en quelques mots pourquoi" in missing.text
        assert 'aria-invalid="true"' in missing.text
        no_csrf = await browser.post(
            f"/mon-bilan/{dossier_id}/seances/{session['session_id']}/deplacement",
            data={"starts_at": offered[0], "move_message": WORDS},
        )
        assert no_csrf.status_code == 403
        unchanged = await c.scheduling.get(
            f"/sessions/{session['session_id']}",
            headers={"Authorization": f"Bearer {dev_token(['admin'], ['*'])}"},
        )
        assert unchanged.json()["version"] == session["version"]

        moved = await browser.post(
            f"/mon-bilan/{dossier_id}/seances/{session['session_id']}/deplacement",
            data={"starts_at": offered[0], "move_message": WORDS, "csrf_token": token},
        )
        assert moved.status_code == 303, moved.text
        done = await browser.get(moved.headers["location"])
        assert "Votre séance est déplacée" in done.text

    async def told() -> list[Any]:
        return [m for m in c.smtp.messages if m["To"] == consultant_address]

    (mail,) = await eventually(told, timeout_s=60)
    assert str(make_header(decode_header(mail["Subject"]))).startswith(
        "Séance déplacée par le bénéficiaire"
    )
    assert WORDS in body_of(mail)
    admin = {"Authorization": f"Bearer {dev_token(['admin'], ['*'])}"}
    after = await c.scheduling.get(f"/sessions/{session['session_id']}", headers=admin)
    assert after.json()["starts_at"].replace("Z", "+00:00") == offered[0].replace("Z", "+00:00")
    runtime = c.app.state.console_runtime
    assert WORDS not in str(await runtime.pool.fetch("SELECT * FROM mail_outbox"))


async def test_the_beneficiary_warns_of_an_absence(console: Console) -> None:
    c = console
    assert c.scheduling is not None
    site_id = await open_site(c.scheduling)
    consultant_address = f"paul.{uuid.uuid4().hex[:8]}@centre-bilan.fr"
    consultant = await onboard(c.scheduling, site_id, consultant_address, ("consultant",))
    mine = f"camille.{uuid.uuid4().hex[:8]}@example.org"
    dossier_id, _me, session = await _with_session(c, c.scheduling, site_id, consultant, mine)
    base = f"/mon-bilan/{dossier_id}/seances/{session['session_id']}"
    async with c.browser() as browser:
        await sign_in(c, mine, browser)
        token = await csrf_of(browser, f"{base}/changer")
        no_reason = await browser.post(
            f"{base}/absence", data={"reason": "", "absence_message": "", "csrf_token": token}
        )
        assert no_reason.status_code == 422
        assert 'id="err-reason"' in no_reason.text
        assert 'id="err-absence_message"' in no_reason.text
        absent = await browser.post(
            f"{base}/absence",
            data={"reason": "illness", "absence_message": "Grippe.", "csrf_token": token},
        )
        assert absent.status_code == 303, absent.text
        done = await browser.get(absent.headers["location"])
        assert "Votre absence est enregistrée" in done.text

    async def told() -> list[Any]:
        return [m for m in c.smtp.messages if m["To"] == consultant_address]

    (mail,) = await eventually(told, timeout_s=60)
    assert "motif : maladie" in body_of(mail)
    admin = {"Authorization": f"Bearer {dev_token(['admin'], ['*'])}"}
    after = await c.scheduling.get(f"/sessions/{session['session_id']}", headers=admin)
    assert after.json()["status"] == "cancelled"
