"""Need-to-know, concurrency and refusals over HTTP: a refused request changes nothing."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import timedelta

from pypdf import PdfReader

from tests.integration.dossier.harness import Harness, eventually

PSYCHOMETRIC = "6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b03"


async def _referent_and_investigation(h: Harness) -> tuple[str, str]:
    await h.staff_known()
    dossier, beneficiary = await h.signed_dossier()
    url = f"/dossiers/{dossier}"
    await h.command(
        f"{url}/referent",
        h.as_manager(),
        {"consultant_id": h.consultant, "reason": "initial"},
        dossier_id=dossier,
        method="PUT",
    )
    await h.command(f"{url}/phases/preliminary/start", h.as_consultant(), dossier_id=dossier)
    await h.command(f"{url}/phases/preliminary/completion", h.as_consultant(), dossier_id=dossier)
    await h.command(f"{url}/phases/investigation/start", h.as_consultant(), dossier_id=dossier)
    return dossier, beneficiary


async def _events(h: Harness) -> int:
    count: int = await h.service.pool.fetchval("SELECT count(*) FROM events")
    return count


async def test_need_to_know_and_the_access_log(harness: Harness) -> None:
    h = harness
    dossier, beneficiary = await _referent_and_investigation(h)
    url = f"/dossiers/{dossier}"
    other_site = str(uuid.uuid4())

    # Content: the referent and the beneficiary only.
    assert (await h.call("GET", f"{url}/content", h.as_consultant())).json()["needs_analysis"]
    assert (
        await h.call("GET", f"{url}/content", h.auth("beneficiary", beneficiary))
    ).status_code == 200
    forbidden = await h.call("GET", f"{url}/content", h.as_manager(), expect=403)
    assert forbidden.json()["code"] == "forbidden"
    for role in ("admin", "auditor", "quality_lead"):
        await h.call("GET", f"{url}/content", h.auth(role), expect=403)
    await h.call("GET", f"{url}/content", h.auth("consultant"), expect=403)  # not the referent
    # Another site's staff and another beneficiary learn nothing, not even that it exists.
    hidden = await h.call(
        "GET", f"{url}/content", h.auth("consultant", h.consultant, other_site), expect=404
    )
    assert hidden.json()["code"] == "dossier_not_found"
    await h.call("GET", url, h.auth("site_manager", site=other_site), expect=404)
    await h.call("GET", url, h.auth("beneficiary"), expect=404)
    # Administrative facts: the site's manager and auditors, no content in them.
    admin_view = await h.call("GET", url, h.as_manager())
    assert "Burn-out" not in admin_view.text
    await h.call("GET", url, h.auth("auditor"))

    log = await h.call(
        "GET", f"/beneficiaries/{beneficiary}/access-log", h.auth("beneficiary", beneficiary)
    )
    assert [
        (e["reader_id"], e["what"]) for e in log.json() if e["what"] == "working_documents"
    ] == [
        (h.consultant, "working_documents"),
        (beneficiary, "working_documents"),
    ]
    # The refused attempts too (the same site's five, the other site's and beneficiary's one).
    refused = [e["reader_roles"] for e in log.json() if e["what"] == "refused:working_documents"]
    assert refused == [
        ["site_manager"],
        ["admin"],
        ["auditor"],
        ["quality_lead"],
        ["consultant"],
        ["consultant"],
    ]
    await h.call("GET", f"/beneficiaries/{beneficiary}/access-log", h.as_consultant(), expect=404)


async def test_habilitation_is_required_for_psychometric_tests(harness: Harness) -> None:
    h = harness
    dossier, _ = await _referent_and_investigation(h)
    url = f"/dossiers/{dossier}"
    before = await _events(h)
    refused = await h.command(
        f"{url}/assessments",
        h.as_consultant(),
        {"instrument_id": PSYCHOMETRIC, "result": "Profile"},
        dossier_id=dossier,
        expect=403,
    )
    assert refused.json()["code"] == "habilitation_required"
    assert await _events(h) == before
    given = await h.command(
        f"{url}/assessments",
        h.as_psychologist(),
        {"instrument_id": PSYCHOMETRIC, "result": "Profile"},
        dossier_id=dossier,
        expect=201,
    )
    # The psychologist reads the result they gave, not the rest of the content.
    await h.call("GET", given.headers["location"], h.as_psychologist())
    await h.call("GET", f"{url}/content", h.as_psychologist(), expect=403)
    await h.call("GET", given.headers["location"], h.as_manager(), expect=403)


async def test_referent_must_be_known_staff_of_the_site(harness: Harness) -> None:
    h = harness
    await h.staff_known()
    dossier, _ = await h.signed_dossier()
    for candidate in (str(uuid.uuid4()), h.manager):
        refused = await h.command(
            f"/dossiers/{dossier}/referent",
            h.as_manager(),
            {"consultant_id": candidate, "reason": "initial"},
            dossier_id=dossier,
            method="PUT",
            expect=422,
        )
        assert refused.json()["code"] == "referent_not_eligible"
    await h.command(
        f"/dossiers/{dossier}/referent",
        h.as_consultant(),
        {"consultant_id": h.consultant, "reason": "initial"},
        dossier_id=dossier,
        method="PUT",
        expect=403,
    )


async def test_concurrent_updates_give_409_and_one_wins(harness: Harness) -> None:
    h = harness
    dossier, _ = await h.open_dossier()
    version = await h.version(dossier)
    url = f"/dossiers/{dossier}/programme"

    async def agree(minutes: int) -> int:
        response = await h.client.put(
            url,
            headers={**h.as_consultant(), "If-Match": f'"{version}"'},
            json={"planned_minutes": minutes, "modality": "remote"},
        )
        return response.status_code

    statuses = sorted(await asyncio.gather(*(agree(600 + n) for n in range(5))))
    assert statuses == [200, 409, 409, 409, 409]
    assert await h.version(dossier) == version + 1


async def test_preconditions_and_bad_input_change_nothing(harness: Harness) -> None:
    h = harness
    dossier, _ = await h.open_dossier()
    url = f"/dossiers/{dossier}"
    before = await _events(h)
    missing = await h.client.put(
        f"{url}/programme",
        headers=h.as_consultant(),
        json={"planned_minutes": 60, "modality": "remote"},
    )
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    stale = await h.call(
        "PUT",
        f"{url}/programme",
        h.as_consultant(),
        {"planned_minutes": 60, "modality": "remote"},
        version=7,
        expect=409,
    )
    assert stale.json()["code"] == "concurrency_conflict"
    too_long = await h.command(
        f"{url}/programme",
        h.as_consultant(),
        {"planned_minutes": 1441, "modality": "remote"},
        dossier_id=dossier,
        method="PUT",
        expect=422,
    )
    assert too_long.headers["content-type"] == "application/problem+json"
    early = await h.command(
        f"{url}/phases/investigation/start", h.as_consultant(), dossier_id=dossier, expect=409
    )
    assert early.json()["code"] == "phase_order"
    wrong_role = await h.command(
        f"{url}/needs-analysis",
        h.as_manager(),
        {"narrative": "x", "disability_accommodation_requested": False},
        dossier_id=dossier,
        method="PUT",
        expect=403,
    )
    assert wrong_role.json()["code"] == "forbidden"
    no_mentions = await h.command(
        f"{url}/conventions",
        h.as_manager(),
        {"kind": "tripartite", "duration_minutes": 600, "price_cents": 1},
        dossier_id=dossier,
        expect=422,
    )
    assert no_mentions.json()["code"] == "invalid_request"
    assert await _events(h) == before
    unknown = await h.call("GET", f"/dossiers/{uuid.uuid4()}", h.as_manager(), expect=404)
    assert unknown.json()["code"] == "dossier_not_found"


async def test_convention_pdf_has_the_mandatory_mentions(harness: Harness) -> None:
    h = harness
    dossier, beneficiary = await h.signed_dossier()
    view = await h.call("GET", f"/dossiers/{dossier}", h.as_manager())
    convention = view.json()["convention"]["convention_id"]
    pdf = await h.call(
        "GET",
        f"/dossiers/{dossier}/conventions/{convention}/document",
        h.auth("beneficiary", beneficiary),
    )
    assert pdf.headers["content-type"] == "application/pdf"
    again = await h.call(
        "GET",
        f"/dossiers/{dossier}/conventions/{convention}/document",
        h.auth("beneficiary", beneficiary),
    )
    # The same bytes each time: the SHA-256 of what a beneficiary signs online identifies it.
    assert again.content == pdf.content
    pages = PdfReader(io.BytesIO(pdf.content)).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    for mention in (
        "Entre le prestataire",
        "SIRET",
        "Déclaration d'activité enregistrée sous le numéro",
        "Intitulé",
        "Objectif",
        "Contenu",
        "Moyens prévus",
        "Période de réalisation",
        "Modalités de déroulement",
        "Modalités de suivi",
        "résultats détaillés",
        "Durée",
        "20 h 00",
        "Prix",
        "1 800,00 € TTC",
        "Modalités de règlement",
        "Camille Zéphyrine Martin",
        "L'employeur : signé le",
    ):
        assert mention in text, mention


async def test_withdrawal_within_the_period(harness: Harness) -> None:
    h = harness
    dossier, beneficiary = await h.open_dossier("self_funded")
    url = f"/dossiers/{dossier}"
    drafted = await h.command(
        f"{url}/conventions",
        h.as_manager(),
        {
            "kind": "individual_contract",
            **{k: "text" for k in ("title", "objective", "content", "means", "period")},
            **{
                k: "text"
                for k in ("running_terms", "follow_up_terms", "handover_terms", "payment_terms")
            },
            "duration_minutes": 1200,
            "price_cents": 150000,
        },
        dossier_id=dossier,
        expect=201,
    )
    convention = drafted.headers["location"].rsplit("/", 1)[1]
    await h.command(f"{url}/conventions/{convention}/sending", h.as_manager(), dossier_id=dossier)
    ben = h.auth("beneficiary", beneficiary)
    await h.command(
        f"{url}/conventions/{convention}/signatures",
        ben,
        {"party": "provider"},
        dossier_id=dossier,
        expect=403,
    )
    await h.command(
        f"{url}/conventions/{convention}/signatures",
        ben,
        {"party": "beneficiary", "method": "handwritten"},
        dossier_id=dossier,
        expect=422,
    )
    for party, who in (("beneficiary", ben), ("provider", h.as_manager())):
        await h.command(
            f"{url}/conventions/{convention}/signatures", who, {"party": party}, dossier_id=dossier
        )
    # Contract v1.1: each signature says how it was given; both parties signed online here.
    methods = await h.service.pool.fetch(
        """SELECT data->>'party' AS party, data->>'method' AS method FROM events
           WHERE event_type = 'ConventionSignedByParty' AND stream_id LIKE '%' || $1
           ORDER BY version""",
        dossier,
    )
    assert [(r["party"], r["method"]) for r in methods] == [
        ("beneficiary", "electronic"),
        ("provider", "electronic"),
    ]
    result = await h.command(f"{url}/conventions/{convention}/withdrawal", ben, dossier_id=dossier)
    assert result.json()["events"] == ["WithdrawalExercised"]
    view = await h.call("GET", url, ben)
    assert view.json()["status"] == "withdrawn"
    # Rule 7 (v1.1): a withdrawn dossier's documents are destroyed like an ended one's.
    h.clock.advance(timedelta(days=31))

    async def destroyed() -> bool:
        seen = await h.call("GET", url, h.as_manager())
        return bool(seen.json()["destroyed_document_classes"] == ["synthesis", "working_documents"])

    await eventually(destroyed)


async def test_listing_shows_only_the_callers_sites(harness: Harness) -> None:
    h = harness
    mine, _ = await h.open_dossier()
    programme = {"planned_minutes": 1200, "modality": "mixed"}
    await h.command(
        f"/dossiers/{mine}/programme", h.as_consultant(), programme, dossier_id=mine, method="PUT"
    )
    elsewhere = str(uuid.uuid4())
    other = await h.call(
        "POST",
        "/dossiers",
        h.auth("site_manager", site=elsewhere),
        {
            "site_id": elsewhere,
            "funding_route": "cpf",
            "enquiry_received_at": h.clock.now().isoformat(),
            "name": "Someone Else",
            "email": "someone@example.org",
        },
        expect=201,
    )
    listed = await h.call("GET", "/dossiers", h.as_manager())
    assert [row["dossier_id"] for row in listed.json()] == [mine]
    assert listed.json()[0]["version"] == await h.version(mine) > 1  # the stream's own
    assert "Camille" not in listed.text
    everything = await h.call("GET", "/dossiers?status=open", h.auth("admin", site="*"))
    assert {row["dossier_id"] for row in everything.json()} == {mine, other.json()["id"]}
    assert (await h.call("GET", "/dossiers?mine=true", h.as_consultant())).json() == []
    await h.call("GET", "/dossiers", h.auth("beneficiary"), expect=403)
