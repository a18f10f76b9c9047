"""The scheduling service's authorisation matrix (tests/integration/authz/matrix.py), on a
real site, room, consultant, dossier (learnt over Kafka) and session."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.integration.authz.matrix import (
    EVERYONE,
    READER,
    callers,
    check_matrix,
    operations_of,
    route,
    with_ids,
)
from tests.integration.scheduling.harness import (
    DossierService,
    Harness,
    auth,
    eventually,
    onboard,
    setup_site,
)

MANAGERS = "site_manager@site admin@site"
LEADERS_HERE = "consultant@mine consultant@site psychologist@site"
READERS_HERE = f"{MANAGERS} {LEADERS_HERE} quality_lead@site"
READERS_ANYWHERE = (
    READERS_HERE
    + " "
    + " ".join(
        f"{r}@away" for r in ("site_manager", "admin", "consultant", "psychologist", "quality_lead")
    )
)
TRAINING_READERS = "site_manager@site admin@site quality_lead@site"
ACTORS = f"{MANAGERS} consultant@mine"
"""A session's consultant (here also the referent) or a manager of its site."""
WHEN = "2026-01-02T09:00:00Z"
S = "/sessions/{session_id}"
STAFF = "/staff/{staff_id}"

ROUTES = [
    route("GET", "/sites", READERS_ANYWHERE),
    route("POST", "/sites", "admin@site admin@away", {"name": "Annecy", "region": "ara"}),
    route("POST", "/sites/{site_id}/rooms", MANAGERS, {"name": "C3", "confidential": True}),
    route("GET", "/sites/{site_id}/rooms", READERS_HERE),
    route("POST", "/staff", MANAGERS, {
        "staff_id": "{new_staff}", "roles": ["consultant"], "site_ids": ["{site_id}"],
        "contract": "employee"}),
    route("GET", "/sites/{site_id}/staff", TRAINING_READERS),
    route("GET", STAFF, TRAINING_READERS),
    route("POST", f"{STAFF}/qualifications", MANAGERS,
          {"qualification": "master_rh", "habilitations": [], "recorded_at": WHEN},
          version_of=STAFF),
    route("POST", f"{STAFF}/trainings", MANAGERS,
          {"title_code": "ethique", "hours": 7, "completed_at": WHEN}, version_of=STAFF),
    route("POST", f"{STAFF}/evaluations", MANAGERS,
          {"outcome": "meets", "evaluated_at": WHEN}, version_of=STAFF),
    route("POST", f"{STAFF}/leaving", MANAGERS, {"left_at": WHEN}, version_of=STAFF),
    # The work address (sign-in, mails to staff): managers set it, the console finds it.
    route("PUT", f"{STAFF}/email", MANAGERS, {"email": "c.dubois@centre-bilan.fr"}),
    route("GET", "/internal/staff", "service", params={"email_index": "0" * 64}),
    route("GET", "/internal/staff/{staff_id}", "service"),
    route("GET", "/internal/staff/{staff_id}/contact", "service"),
    route("GET", f"{STAFF}/free-slots", ACTORS,
          params={"from": "2026-01-12", "to": "2026-01-16"}),
    route("POST", "/dossiers/{dossier_id}/sessions", ACTORS, {
        "phase": "investigation", "modality": "remote", "consultant_id": "{staff_id}",
        "starts_at": "{later}", "planned_minutes": 60}),
    route("GET", "/dossiers/{dossier_id}/sessions", f"beneficiary@mine {MANAGERS} {LEADERS_HERE}"),
    # Names and places of the dossier's sessions (the console's "my bilan"): the same readers.
    route(
        "GET",
        "/dossiers/{dossier_id}/people-and-places",
        f"beneficiary@mine {MANAGERS} {LEADERS_HERE}",
    ),
    route("GET", S, f"beneficiary@mine {MANAGERS} {LEADERS_HERE}"),
    route("POST", f"{S}/reschedule", ACTORS,
          {"starts_at": "{later}", "requested_by": "beneficiary"}, version_of=S),
    route("POST", f"{S}/cancellation", ACTORS,
          {"cancelled_by": "beneficiary", "reason": "illness"}, version_of=S),
    # The beneficiary's own requests, and the consultant's slots to move a session to.
    route("POST", f"{S}/move-request", "beneficiary@mine",
          {"starts_at": "{later}", "message": "Un empêchement"}, version_of=S),
    route("POST", f"{S}/absence-notice", "beneficiary@mine",
          {"reason": "illness", "message": "Malade"}, version_of=S),
    route("GET", f"{S}/free-slots", f"beneficiary@mine {ACTORS}",
          params={"from": "2026-01-12", "to": "2026-01-16"}),
    route("POST", f"{S}/no-show", ACTORS, version_of=S),
    route("POST", f"{S}/held", ACTORS, {"started_at": "{soon}", "duration_minutes": 60},
          version_of=S),
    route("POST", f"{S}/signatures", "beneficiary@mine consultant@mine", {}, version_of=S),
    route("GET", "/dossiers/{dossier_id}/attendance-sheet.pdf", f"{MANAGERS} {LEADERS_HERE}"),
    route("POST", f"{STAFF}/calendar-feed", ACTORS),
    route("GET", "/calendars/{secret}.ics", EVERYONE),
]  # fmt: skip
OPERATIONS_ROUTES = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")]


async def test_no_caller_outside_the_matrix_gets_a_2xx(db_dsn: str, kafka_bootstrap: str) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    dossiers = DossierService(kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        site_id, _room = await setup_site(client)
        consultant = await onboard(client, site_id)
        dossier_id, beneficiary = uuid.uuid4(), uuid.uuid4()
        await dossiers.open(dossier_id, beneficiary, site_id, clock.now() - timedelta(days=9))
        await dossiers.assign_referent(dossier_id, consultant, clock.now() - timedelta(days=9))
        await dossiers.sign_convention(dossier_id, clock.now() - timedelta(days=5))

        async def known() -> bool:
            return bool(
                await svc.runtime.pool.fetchval(
                    "SELECT convention_signed_at IS NOT NULL FROM dossiers WHERE dossier_id = $1",
                    dossier_id,
                )
            )

        await eventually(known)
        starts = clock.now() + timedelta(days=2)
        me = auth(["consultant"], [site_id], subject=consultant)
        session = await client.post(
            f"/dossiers/{dossier_id}/sessions",
            json={
                "phase": "investigation",
                "modality": "remote",
                "consultant_id": consultant,
                "starts_at": starts.isoformat(),
                "planned_minutes": 60,
            },
            headers=me,
        )
        assert session.status_code == 201, session.text
        feed = await client.post(f"/staff/{consultant}/calendar-feed", headers=me)
        ids = {
            "site_id": site_id,
            "staff_id": consultant,
            "new_staff": str(uuid.uuid4()),
            "dossier_id": str(dossier_id),
            "session_id": session.json()["session_id"],
            "secret": feed.json()["url"].removeprefix("/calendars/").removesuffix(".ics"),
            "later": (starts + timedelta(days=1)).isoformat(),
            "soon": starts.isoformat(),
        }
        everyone = callers(
            site_id, people={"beneficiary@mine": str(beneficiary), "consultant@mine": consultant}
        )
        document = (await client.get("/openapi.json")).json()
        before = await svc.runtime.pool.fetchval("SELECT count(*) FROM events")
        outcome = await check_matrix(
            client,
            with_ids(ROUTES, ids),
            everyone,
            ids,
            reader=READER,
            operations=operations_of(document),
            not_in_matrix=OPERATIONS_ROUTES,
        )
        assert outcome.unexpected == [], "\n".join(outcome.unexpected)
        assert outcome.tried > 250
        assert await svc.runtime.pool.fetchval("SELECT count(*) FROM events") == before
