"""The dossier service's authorisation matrix (tests/integration/authz/matrix.py), on a real
dossier: signed convention, the referent consultant, a psychologist's test result, a consent
and a data request."""

from __future__ import annotations

import base64

from tests.integration.authz.matrix import (
    READER,
    callers,
    check_matrix,
    operations_of,
    route,
    with_ids,
)
from tests.integration.dossier.harness import MENTIONS, Harness

PSYCHOMETRIC = "6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b03"
D = "/dossiers/{dossier_id}"
B = "/beneficiaries/{beneficiary_id}"
# Who may get a 2xx, written once per route. `X@site`: role X on the dossier's site; `X@away`:
# on another; `consultant@mine`: the referent; `psychologist@mine`: who gave the test;
# `beneficiary@mine`: the dossier's beneficiary.
OWN_SITE_MANAGERS = "consultant@mine consultant@site psychologist@mine psychologist@site "
OWN_SITE_MANAGERS += "site_manager@site admin@site"
ADMINISTRATIVE = f"beneficiary@mine {OWN_SITE_MANAGERS}"
STAFF_ANYWHERE = " ".join(f"{r}@{w}" for r in (
    "consultant", "psychologist", "site_manager", "quality_lead", "auditor", "admin"
) for w in ("site", "away")) + " consultant@mine psychologist@mine"  # fmt: skip
SITE_STAFF = (
    "consultant@mine consultant@site psychologist@mine psychologist@site site_manager@site "
    "quality_lead@site auditor@site admin@site"
)
REFERENT = "consultant@mine"
DATA_PROTECTION = "quality_lead@site admin@site"
AT = {"at": None}
PDF_SCAN = {
    "media_type": "application/pdf",
    "content_base64": base64.b64encode(b"%PDF-1.4\n% a letter\n").decode(),
}

ROUTES = [
    route("GET", "/deontology-notice", f"beneficiary@mine beneficiary@other {STAFF_ANYWHERE}"),
    route("GET", "/instruments", STAFF_ANYWHERE),
    route(
        "POST",
        "/dossiers",
        OWN_SITE_MANAGERS,
        {
            "site_id": "{site}",
            "funding_route": "cpf",
            "enquiry_received_at": "2026-03-01T09:00:00Z",
            "name": "Alix Durand",
            "email": "alix@example.org",
        },
    ),
    route("GET", "/dossiers", STAFF_ANYWHERE),
    route("GET", D, f"beneficiary@mine {SITE_STAFF}"),
    route(
        "POST",
        f"{D}/deontology-acknowledgements",
        ADMINISTRATIVE,
        {"notice_version": 1},
        version_of=D,
    ),
    route(
        "PUT",
        f"{D}/needs-analysis",
        REFERENT,
        {"narrative": "Wants to teach", "disability_accommodation_requested": False},
        version_of=D,
    ),
    route(
        "PUT",
        f"{D}/programme",
        REFERENT,
        {"planned_minutes": 1200, "modality": "mixed"},
        version_of=D,
    ),
    route(
        "POST",
        f"{D}/conventions",
        OWN_SITE_MANAGERS,
        {"kind": "individual_contract", **MENTIONS, "duration_minutes": 1200, "price_cents": 1000},
        version_of=D,
    ),
    route(
        "POST", f"{D}/conventions/{{convention_id}}/sending", OWN_SITE_MANAGERS, {}, version_of=D
    ),
    route(
        "POST",
        f"{D}/conventions/{{convention_id}}/signatures",
        "site_manager@site admin@site",
        {"party": "provider"},
        version_of=D,
    ),
    route(
        "POST", f"{D}/conventions/{{convention_id}}/withdrawal", ADMINISTRATIVE, {}, version_of=D
    ),
    route("GET", f"{D}/conventions/{{convention_id}}/document", ADMINISTRATIVE),
    route(
        "PUT",
        f"{D}/referent",
        "site_manager@site admin@site",
        {"consultant_id": "{psychologist}", "reason": "unavailability"},
        version_of=D,
    ),
    route("POST", f"{D}/phases/{{phase}}/start", REFERENT, AT, version_of=D),
    route("POST", f"{D}/phases/{{phase}}/completion", REFERENT, AT, version_of=D),
    route(
        "POST",
        f"{D}/assessments",
        f"{REFERENT} psychologist@mine psychologist@site",
        {"instrument_id": PSYCHOMETRIC, "result": "Profile"},
        version_of=D,
    ),
    route(
        "POST",
        f"{D}/field-inquiries",
        REFERENT,
        {"contact_type": "professional_interview"},
        version_of=D,
    ),
    route("POST", f"{D}/training-needs", REFERENT, {"kind": "training"}, version_of=D),
    route(
        "PUT",
        f"{D}/training-needs/{{index}}/follow-up",
        REFERENT,
        {"status": "enrolled"},
        version_of=D,
    ),
    route("POST", f"{D}/detailed-results-handover", REFERENT, {}, version_of=D),
    route("POST", f"{D}/synthesis/drafts", REFERENT, {"content": "Synthèse"}, version_of=D),
    route(
        "POST", f"{D}/synthesis/delivery", REFERENT, {"channel": "secure_download"}, version_of=D
    ),
    route(
        "POST",
        f"{D}/disclosure-consents",
        "beneficiary@mine",
        {"recipient": "funder"},
        version_of=D,
    ),
    route("DELETE", f"{D}/disclosure-consents/{{recipient}}", "beneficiary@mine", version_of=D),
    # A withdrawal sent in writing: the site's staff record it with its scan.
    route(
        "POST",
        f"{D}/disclosure-consents/{{recipient}}/withdrawal",
        OWN_SITE_MANAGERS,
        {"written_withdrawal": PDF_SCAN},
        version_of=D,
    ),
    route(
        "POST", f"{D}/synthesis/disclosures", REFERENT, {"recipient": "cep_operator"}, version_of=D
    ),
    route("POST", f"{D}/completion", REFERENT, {}, version_of=D),
    route(
        "POST",
        f"{D}/abandonment",
        OWN_SITE_MANAGERS,
        {"reason_category": "employment_found", "initiated_by": "beneficiary"},
        version_of=D,
    ),
    route(
        "POST",
        f"{D}/retention",
        OWN_SITE_MANAGERS,
        {
            "document_classes": ["synthesis"],
            "justification": "follow_up",
            "expires_at": "2026-12-01T00:00:00Z",
        },
        version_of=D,
    ),
    route("GET", f"{D}/content", f"beneficiary@mine {REFERENT}"),
    route(
        "GET",
        f"{D}/assessments/{{assessment_id}}",
        f"beneficiary@mine {REFERENT} psychologist@mine",
    ),
    route("GET", f"{D}/synthesis", f"beneficiary@mine {REFERENT}"),
    route("GET", B, f"beneficiary@mine {DATA_PROTECTION}"),
    route(
        "POST",
        f"{B}/data-requests",
        f"beneficiary@mine {DATA_PROTECTION}",
        {"kind": "objection"},
        version_of=B,
    ),
    route(
        "POST", f"{B}/data-requests/{{request_id}}/fulfilment", DATA_PROTECTION, {}, version_of=B
    ),
    route(
        "POST",
        f"{B}/data-requests/{{request_id}}/refusal",
        DATA_PROTECTION,
        {"legal_ground": "art17_3_b"},
        version_of=B,
    ),
    route("POST", f"{B}/restriction/lifting", DATA_PROTECTION, version_of=B),
    route("GET", f"{B}/export", "beneficiary@mine"),
    route("GET", f"{B}/access-log", f"beneficiary@mine {DATA_PROTECTION}"),
    route("GET", "/internal/dossiers/{dossier_id}/contact", "service"),
    # The console's sign-in look-ups: the internal service token only.
    route("GET", "/internal/beneficiaries", "service", params={"email_index": "0" * 64}),
    route("GET", "/internal/beneficiaries/{beneficiary_id}", "service"),
    route("GET", "/internal/beneficiaries/{beneficiary_id}/contact", "service"),
]
OPERATIONS_ROUTES = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")]


async def test_no_caller_outside_the_matrix_gets_a_2xx(harness: Harness) -> None:
    h = harness
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
    given = await h.command(
        f"{url}/assessments",
        h.as_psychologist(),
        {"instrument_id": PSYCHOMETRIC, "result": "Profile S-A-E"},
        dossier_id=dossier,
        expect=201,
    )
    ben = h.auth("beneficiary", beneficiary)
    await h.command(
        f"{url}/disclosure-consents", ben, {"recipient": "cep_operator"}, dossier_id=dossier
    )
    person = await h.call("GET", f"/beneficiaries/{beneficiary}", ben)
    asked = await h.call(
        "POST",
        f"/beneficiaries/{beneficiary}/data-requests",
        ben,
        {"kind": "access"},
        expect=201,
        version=int(person.headers["etag"].strip('"')),
    )
    view = (await h.call("GET", url, h.as_manager())).json()
    ids = {
        "site": h.site,
        "dossier_id": dossier,
        "beneficiary_id": beneficiary,
        "convention_id": view["convention"]["convention_id"],
        "phase": "investigation",
        "assessment_id": given.headers["location"].rsplit("/", 1)[1],
        "recipient": "cep_operator",
        "request_id": asked.headers["location"].rsplit("/", 1)[1],
        "psychologist": h.psychologist,
        "index": "0",
    }
    routes = with_ids(ROUTES, ids)
    everyone = callers(
        h.site,
        people={
            "beneficiary@mine": beneficiary,
            "consultant@mine": h.consultant,
            "psychologist@mine": h.psychologist,
        },
    )
    document = (await h.client.get("/openapi.json")).json()
    before = await h.service.pool.fetchval("SELECT count(*) FROM events")
    outcome = await check_matrix(
        h.client,
        routes,
        everyone,
        ids,
        reader=READER,
        operations=operations_of(document),
        not_in_matrix=OPERATIONS_ROUTES,
    )
    assert outcome.unexpected == [], "\n".join(outcome.unexpected)
    assert outcome.tried > 400
    assert await h.service.pool.fetchval("SELECT count(*) FROM events") == before
