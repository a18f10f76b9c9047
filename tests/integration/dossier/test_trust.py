"""Issue 16 on the dossier service: a person belongs to the sites of their dossiers (another
site's data-protection staff act on nothing of theirs), refused reads of content are logged,
and bad input is a 422 problem document with nothing recorded."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.integration.dossier.harness import IDENTITY, MENTIONS, Harness


async def test_another_sites_quality_lead_acts_on_nothing_of_the_person(
    harness: Harness,
) -> None:
    h = harness
    dossier, beneficiary = await h.open_dossier()
    person = f"/beneficiaries/{beneficiary}"
    me = h.auth("beneficiary", beneficiary)
    read = await h.call("GET", person, me)
    own = await h.call(
        "POST",
        f"{person}/data-requests",
        me,
        {"kind": "access"},
        expect=201,
        version=int(read.headers["etag"].strip('"')),
    )
    after = int(own.headers["etag"].strip('"'))
    request_id = own.headers["location"].rsplit("/", 1)[1]
    other_site = str(uuid.uuid4())
    for role in ["quality_lead", "admin"]:
        elsewhere = h.auth(role, site=other_site)
        for url in [person, f"{person}/access-log"]:
            await h.call("GET", url, elsewhere, expect=404)
        await h.call(
            "POST",
            f"{person}/data-requests/{request_id}/fulfilment",
            elsewhere,
            {},
            expect=404,
            version=1,
        )
        # Before the version: a stale one tells them nothing either.
        await h.call(
            "POST",
            f"{person}/data-requests/{request_id}/refusal",
            elsewhere,
            {"legal_ground": "art17_3_b"},
            expect=404,
            version=99,
        )
        await h.call(
            "POST",
            f"{person}/data-requests",
            elsewhere,
            {"kind": "access"},
            expect=404,
            version=99,
        )
    here = h.auth("quality_lead")
    assert (await h.call("GET", person, here)).json()["dossiers"][0]["dossier_id"] == dossier
    await h.call("GET", f"{person}/access-log", here)
    everywhere = {"Authorization": h.auth("quality_lead", site="*")["Authorization"]}
    await h.call(
        "POST", f"{person}/data-requests/{request_id}/fulfilment", everywhere, {}, version=after
    )


async def test_refused_reads_of_content_are_in_the_access_log(harness: Harness) -> None:
    h = harness
    dossier, beneficiary = await h.open_dossier()
    url = f"/dossiers/{dossier}"
    assessment = uuid.uuid4()
    for headers, path in [
        (h.as_manager(), "content"),
        (h.as_manager(), "synthesis"),
        (h.auth("auditor"), "content"),
        (h.auth("quality_lead"), f"assessments/{assessment}"),
    ]:
        await h.call("GET", f"{url}/{path}", headers, expect=403)
    log = await h.call(
        "GET", f"/beneficiaries/{beneficiary}/access-log", h.auth("beneficiary", beneficiary)
    )
    refused = [(e["reader_roles"], e["what"]) for e in log.json()]
    assert refused == [
        (["site_manager"], "refused:working_documents"),
        (["site_manager"], "refused:synthesis"),
        (["auditor"], "refused:working_documents"),
        (["quality_lead"], f"refused:assessment_result:{assessment}"),
    ]


async def test_bad_input_is_a_422_and_changes_nothing(harness: Harness) -> None:
    h = harness
    dossier, _beneficiary = await h.open_dossier()
    url = f"/dossiers/{dossier}"
    version = await h.version(dossier)
    mentions: dict[str, object] = {
        **MENTIONS,
        "kind": "individual_contract",
        "duration_minutes": 1200,
        "price_cents": 1800,
    }
    changes: list[dict[str, object]] = [
        {"title": "Bilan\x00"},
        {"payment_terms": "paid\x1b[31m"},
        {"price_cents": 10**20},
        {"price_cents": True},
        {"duration_minutes": True},
        {"duration_minutes": 1.5},
    ]
    # The same mentions, unchanged, are a valid draft: each refusal is its change's.
    valid = await h.client.post(
        f"{url}/conventions",
        json=mentions,
        headers={**h.as_manager(), "If-Match": '"999"'},
    )
    assert (valid.status_code, valid.json()["code"]) == (409, "concurrency_conflict")
    for change in changes:
        await h.call(
            "POST",
            f"{url}/conventions",
            h.as_manager(),
            {**mentions, **change},
            expect=422,
            version=version,
        )
    # Encrypted fields follow the same rule as the others.
    for name in ["Camille\x00", "Camille\x07"]:
        await h.call(
            "POST",
            "/dossiers",
            h.as_manager(),
            {
                "site_id": h.site,
                "funding_route": "cpf",
                "enquiry_received_at": h.clock.now().isoformat(),
                **IDENTITY,
                "name": name,
            },
            expect=422,
        )
    for when in [
        "0001-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "9999-12-31T00:00:00Z",
        0,
        -1,
        1.5,
        "2026-03-01",
    ]:
        await h.call(
            "POST",
            "/dossiers",
            h.as_manager(),
            {"site_id": h.site, "funding_route": "cpf", "enquiry_received_at": when, **IDENTITY},
            expect=422,
        )
    await h.call(
        "PUT",
        f"{url}/programme",
        h.as_consultant(),
        {"planned_minutes": True, "modality": "mixed"},
        expect=422,
        version=version,
    )
    await h.call(
        "POST",
        f"{url}/deontology-acknowledgements",
        h.as_manager(),
        {"notice_version": 10**20},
        expect=422,
        version=version,
    )
    later = (h.clock.now() + timedelta(days=30)).isoformat()
    assert await h.version(dossier) == version, later


async def test_the_referents_history_is_readable_by_the_sites_staff_and_in_the_export(
    harness: Harness,
) -> None:
    h = harness
    await h.staff_known()
    dossier, beneficiary = await h.open_dossier()
    url = f"/dossiers/{dossier}"
    for consultant, reason in [(h.consultant, "initial"), (h.psychologist, "unavailability")]:
        await h.command(
            f"{url}/referent",
            h.as_manager(),
            {"consultant_id": consultant, "reason": reason},
            dossier_id=dossier,
            method="PUT",
        )
    expected = [
        (h.consultant, None, "initial", h.manager),
        (h.psychologist, h.consultant, "unavailability", h.manager),
    ]
    for headers in [h.auth("auditor"), h.auth("quality_lead"), h.as_consultant()]:
        history = (await h.call("GET", url, headers)).json()["referent_history"]
        assert [
            (x["consultant_id"], x["previous_consultant_id"], x["reason"], x["assigned_by"])
            for x in history
        ] == expected
        assert all(x["assigned_at"] for x in history)
    await h.call("GET", url, h.auth("auditor", site=str(uuid.uuid4())), expect=404)
    export = await h.call(
        "GET", f"/beneficiaries/{beneficiary}/export", h.auth("beneficiary", beneficiary)
    )
    (exported,) = export.json()["dossiers"]
    assert [x["reason"] for x in exported["referent_history"]] == ["initial", "unavailability"]


async def test_under_a_restriction_the_dossier_is_only_stored_until_it_is_lifted(
    harness: Harness,
) -> None:
    h = harness
    await h.staff_known()
    dossier, beneficiary = await h.open_dossier()
    url = f"/dossiers/{dossier}"
    await h.command(
        f"{url}/referent",
        h.as_manager(),
        {"consultant_id": h.consultant, "reason": "initial"},
        dossier_id=dossier,
        method="PUT",
    )
    await h.command(
        f"{url}/needs-analysis",
        h.as_consultant(),
        {"narrative": "Wants to teach", "disability_accommodation_requested": False},
        dossier_id=dossier,
        method="PUT",
    )
    person = f"/beneficiaries/{beneficiary}"
    me = h.auth("beneficiary", beneficiary)
    lead = h.auth("quality_lead")

    async def version() -> int:
        read = await h.call("GET", person, me)
        return int(read.headers["etag"].strip('"'))

    asked = await h.call(
        "POST",
        f"{person}/data-requests",
        me,
        {"kind": "restriction"},
        expect=201,
        version=await version(),
    )
    request_id = asked.headers["location"].rsplit("/", 1)[1]
    await h.call(
        "POST",
        f"{person}/data-requests/{request_id}/fulfilment",
        lead,
        {},
        version=await version(),
    )
    assert (await h.call("GET", person, me)).json()["processing_restricted"] is True
    # Staff learn that the dossier is only stored, not its facts; the beneficiary sees theirs.
    stub = (await h.call("GET", url, h.as_manager())).json()
    assert stub == {
        "dossier_id": dossier,
        "site_id": h.site,
        "status": "open",
        "processing_restricted": True,
    }
    assert "needs_analysis_recorded" in (await h.call("GET", url, me)).json()
    # Nor is a new dossier opened for the person meanwhile.
    reopened = await h.call(
        "POST",
        "/dossiers",
        h.as_manager(),
        {
            "site_id": h.site,
            "funding_route": "cpf",
            "beneficiary_id": beneficiary,
            "enquiry_received_at": h.clock.now().isoformat(),
        },
        expect=409,
    )
    assert reopened.json()["code"] == "processing_restricted"

    refused = [
        await h.call("GET", f"{url}/content", h.as_consultant(), expect=409),
        await h.command(
            f"{url}/retention",
            h.as_manager(),
            {
                "document_classes": ["synthesis"],
                "justification": "follow_up",
                "expires_at": "2026-12-01T00:00:00Z",
            },
            dossier_id=dossier,
            expect=409,
        ),
        await h.command(
            f"{url}/programme",
            h.as_consultant(),
            {"planned_minutes": 1200, "modality": "mixed"},
            dossier_id=dossier,
            method="PUT",
            expect=409,
        ),
    ]
    assert {r.json()["code"] for r in refused} == {"processing_restricted"}
    own = await h.call("GET", f"{url}/content", me)
    assert own.json()["needs_analysis"] == "Wants to teach", "the beneficiary's own access stays"

    await h.call("POST", f"{person}/restriction/lifting", lead, {}, version=await version())
    assert "needs_analysis_recorded" in (await h.call("GET", url, h.as_manager())).json()
    await h.call("GET", f"{url}/content", h.as_consultant())
    await h.command(
        f"{url}/programme",
        h.as_consultant(),
        {"planned_minutes": 1200, "modality": "mixed"},
        dossier_id=dossier,
        method="PUT",
    )
    again = await h.call(
        "POST", f"{person}/restriction/lifting", lead, {}, expect=409, version=await version()
    )
    assert again.json()["code"] == "not_restricted"
