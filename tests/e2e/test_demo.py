"""`bilan demo` on the running system: what it says it made is what the APIs show."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta

from click.testing import CliRunner

from deploy import demo
from deploy.cli import main
from deploy.client import BilanClient, bearer, wait_until
from shared.contracts.rules import violations
from tests.e2e.contract_log import log_since, offsets_now
from tests.e2e.reporting import Auditor, day_after

DOSSIERS = 11  # the fewest that leave a bilan under way at the end (RECENT_PATTERN)
KAFKA = "127.0.0.1:9092"


def test_the_demo_fills_the_system_through_its_apis(bilan: BilanClient) -> None:
    printed: list[str] = []
    offsets = asyncio.run(offsets_now(KAFKA))
    result = demo.run(bilan, dossiers=DOSSIERS, seed=7, echo=printed.append)
    # What the demo made the services publish obeys every rule of the contract (rule 7
    # included: the development clock stops at each deadline instead of jumping past it).
    published = asyncio.run(log_since(KAFKA, offsets))
    # The demo's own history: its sites' records and the organisation-wide ones (staff). The
    # topics are shared, and whatever else publishes meanwhile (other tests, made-up events)
    # is not the demo's to answer for.
    demo_sites = {*result.site_ids, "org"}
    published = [record for record in published if record.envelope.site_id in demo_sites]
    assert len({r.envelope.site_id for r in published}) == len(demo_sites)
    as_of = datetime.fromisoformat(result.clock_ended_at)
    found = violations(published, as_of=as_of, complete=False)
    assert found == [], "\n".join(map(str, found))
    demo.guide(result, echo=printed.append)

    sites = result.site_ids
    assert len(sites) == 3
    manager = bearer(["site_manager"], sites)
    quality = bearer(["quality_lead"], sites)

    # The organisation: confidential rooms and the team, with a psychologist on every site.
    for site in sites:
        rooms = bilan.get("scheduling", f"/sites/{site}/rooms", manager)
        assert sum(r["confidential"] for r in rooms) == 2
        staff = bilan.get("scheduling", f"/sites/{site}/staff", manager)
        roles = Counter(role for member in staff for role in member["roles"])
        assert roles["psychologist"] >= 1
        assert roles["site_manager"] == 1
        assert roles["disability_referent"] == 1
        assert roles["consultant"] == 3  # two of the site's and the disability referent
    psychologists = result.staff["psychologist"]
    detail = bilan.get("scheduling", f"/staff/{psychologists[0]}", manager)
    assert "psychometric_tests" in detail["habilitations"]
    assert sum(len(ids) for ids in result.staff.values()) == 14

    # The dossiers, at the stages the demo reports, and the surveys answered by link.
    listed = bilan.get("dossier", "/dossiers", manager, params={"limit": 500})
    assert {d["dossier_id"] for d in listed} == set(result.dossiers)
    statuses = Counter(d["status"] for d in listed)
    reached = Counter(result.dossiers.values())
    assert statuses["completed"] == reached["completed"] >= 2
    assert statuses["abandoned"] == reached["abandoned"] >= 1
    surveys = bilan.get("survey", "/surveys", quality, params={"limit": 500})
    answered = [s for s in surveys if s["status"] == "answered"]
    assert len(answered) == result.surveys_answered >= 1
    assert {s["dossier_id"] for s in answered} <= set(result.dossiers)
    assert result.follow_ups_held >= 1
    # It ends two hours before a follow-up interview, whose reminder went out on time.
    sessions = bilan.get("scheduling", f"/dossiers/{result.reminded_dossier}/sessions", manager)
    upcoming = [s for s in sessions if s["status"] == "scheduled"]
    assert [s["phase"] for s in upcoming] == ["follow_up"]
    starts = datetime.fromisoformat(upcoming[0]["starts_at"])
    ahead = starts - datetime.fromisoformat(result.clock_ended_at)
    assert timedelta(0) < ahead < timedelta(hours=2), "its 2-hour reminder is out, not it"
    # The bilans under way have their next session booked: what their beneficiaries see
    # first in the console, and may move.
    ended = datetime.fromisoformat(result.clock_ended_at)
    phases = ("preliminary", "investigation", "conclusion")
    under_way = [d for d, stage in result.dossiers.items() if stage in phases]
    assert under_way
    for dossier in under_way:
        booked = bilan.get("scheduling", f"/dossiers/{dossier}/sessions", manager)
        assert any(
            s["status"] == "scheduled" and datetime.fromisoformat(s["starts_at"]) > ended
            for s in booked
        ), dossier

    # Complaints and improvement actions.
    complaints = bilan.get("survey", "/complaints", quality)
    assert {c["complaint_id"] for c in complaints} == set(result.complaints)
    assert any(c["status"] == "closed" for c in complaints)
    actions = [
        bilan.get("survey", f"/improvement-actions/{a}", bilan.admin)
        for a in result.improvement_actions
    ]
    assert len(actions) >= len(result.complaints)
    assert any(a["completed_at"] for a in actions)

    # The reporting API reflects it, site by site, over the demo's year.
    # Complaints are dated up to three weeks before they are registered.
    begin = date.fromisoformat(result.clock_started_at[:10]) - timedelta(days=30)
    until = day_after(result.clock_ended_at)
    for site in sites:
        auditor = Auditor(bilan, site, "", since=begin)
        mine = [d for d in listed if d["site_id"] == site]
        completed = sum(d["status"] == "completed" for d in mine)
        shown = auditor.wait_indicator(until, "bilans_completed", completed)
        team = shown["team_composition"]["value"][site]
        assert team["has_psychologist"]
        assert team["has_disability_referent"]
        assert team["active_staff"] == 6  # manager, 2 consultants, psychologist, QL, DR
        assert shown["dossiers_over_24h"]["value"] == 0

    def complaints_counted() -> bool:
        counted = sum(
            Auditor(bilan, s, "", since=begin).indicators(until)["complaints_received"]["value"]
            for s in sites
        )
        return bool(counted == len(result.complaints))

    wait_until(complaints_counted, "every complaint counted")

    # The guide names a token command per role and where to look.
    text = "\n".join(printed)
    for role in ("admin", "quality_lead", "site_manager", "consultant", "psychologist", "auditor"):
        assert f"--role {role}" in text
    assert "http://127.0.0.1:8001/docs" in text


def test_the_demo_command_refuses_a_count_out_of_range() -> None:
    refused = CliRunner().invoke(main, ["demo", "--dossiers", "0"])
    assert refused.exit_code == 2
    assert "--dossiers" in refused.output
