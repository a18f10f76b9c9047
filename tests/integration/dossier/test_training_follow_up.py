"""The follow-up status of a training or VAE need (issue 18): set by the referent, shown in the
dossier's administrative view, not published; a wrong status, a need that does not exist or
another consultant is refused and changes nothing."""

from __future__ import annotations

from tests.integration.dossier.harness import Harness
from tests.integration.dossier.test_access_and_rules import _referent_and_investigation


async def _events(h: Harness) -> int:
    count: int = await h.service.pool.fetchval("SELECT count(*) FROM events")
    return count


async def test_a_training_need_is_followed_up_by_the_referent(harness: Harness) -> None:
    h = harness
    dossier, _beneficiary = await _referent_and_investigation(h)
    url = f"/dossiers/{dossier}"
    await h.command(
        f"{url}/training-needs",
        h.as_consultant(),
        {"kind": "vae", "certification_code": "RNCP35185"},
        dossier_id=dossier,
        expect=201,
    )
    view = (await h.call("GET", url, h.as_manager())).json()
    assert view["training_needs"] == [
        {
            "kind": "vae",
            "certification_code": "RNCP35185",
            "follow_up": "identified",
            "follow_up_at": None,
        }
    ]

    before = await _events(h)
    wrong = await h.command(
        f"{url}/training-needs/0/follow-up",
        h.as_consultant(),
        {"status": "nearly"},
        dossier_id=dossier,
        method="PUT",
        expect=422,
    )
    assert wrong.json()["errors"][0]["loc"] == ["body", "status"]
    missing = await h.command(
        f"{url}/training-needs/3/follow-up",
        h.as_consultant(),
        {"status": "enrolled"},
        dossier_id=dossier,
        method="PUT",
        expect=404,
    )
    assert missing.json()["code"] == "training_need_not_found"
    await h.command(
        f"{url}/training-needs/0/follow-up",
        h.auth("consultant"),  # a consultant of the site who is not the referent
        {"status": "enrolled"},
        dossier_id=dossier,
        method="PUT",
        expect=403,
    )
    assert await _events(h) == before

    await h.command(
        f"{url}/training-needs/0/follow-up",
        h.as_consultant(),
        {"status": "enrolled"},
        dossier_id=dossier,
        method="PUT",
    )
    need = (await h.call("GET", url, h.as_manager())).json()["training_needs"][0]
    assert need["follow_up"] == "enrolled"
    assert need["follow_up_at"] is not None
    # An internal fact (`published = False`): the contract has no event for it.
    last = await h.service.pool.fetchval(
        "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1",
        f"dossier-{dossier}",
    )
    assert last == "TrainingNeedFollowedUp"
