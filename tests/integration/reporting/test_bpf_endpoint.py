"""`GET /v1/bpf` on the real topics: the served figures are an independent recount's.

A year of dossiers of two fresh sites goes to the contract topics; the reporting service
projects them (with every other test's events around them), and what `/v1/bpf` serves per
site equals `bpf_recount.recount` over the records read back from Kafka.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka import TopicPartition

from shared.contracts import IntegrationEvent
from tests.integration.kafka_reading import end_offsets, read_envelopes
from tests.unit.reporting.bpf_recount import recount
from tests.unit.reporting.test_bpf import YEAR, year_history

from .conftest import Producer, auth, eventually, make_settings

QUERY = {"from": "2025-01-01", "to": "2026-01-01"}
TOPICS = ("bilan.dossier.events", "bilan.scheduling.events", "bilan.survey.events")


def _site_of(event: IntegrationEvent, sites: dict[str, str], staff_site: str) -> str:
    dossier = getattr(event, "dossier_id", None)
    return sites[str(dossier)] if dossier is not None else staff_site


async def test_the_bpf_served_is_an_independent_recount_of_the_topics(
    db_dsn: str, kafka_bootstrap: str, producer: Producer, start_reporting: Any
) -> None:
    site_a, site_b = str(uuid.uuid4()), str(uuid.uuid4())
    history, ids = year_history(site_a, site_b)
    sites = {
        str(e.dossier_id): str(e.site_id)  # type: ignore[attr-defined]
        for _, e in history.events
        if type(e).__name__ == "DossierOpened"
    }
    ours = set(sites) | {str(ids["own"]), str(ids["external"])}
    start: dict[TopicPartition, int] = {}
    for topic in TOPICS:
        start.update(await end_offsets(kafka_bootstrap, topic))
    for _, event in history.events:
        await producer.publish(event, site=_site_of(event, sites, site_a))
    read = await read_envelopes(
        kafka_bootstrap,
        start,
        keep=lambda e: e.subject in ours or str(getattr(e.data, "dossier_id", "")) in ours,
        done=lambda kept: len(kept) >= len(history.events),
    )
    from_topics = [e.data for e in read]

    async with start_reporting(make_settings(db_dsn, kafka_bootstrap)) as running:
        client = running.client

        async def served(site: str) -> dict[str, Any]:
            response = await client.get(
                "/v1/bpf", params={**QUERY, "site": site}, headers=auth(["auditor"])
            )
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        async def all_in() -> bool:
            a, b = await served(site_a), await served(site_b)
            return bool(a["bilans"] == 3 and b["revenue_cents_by_line"]["C-3"] > 0)

        await eventually(all_in)
        for site in (site_a, site_b):
            assert await served(site) == recount(from_topics, *YEAR, site)
        a = await served(site_a)
        assert a["revenue_cents_by_line"]["C-7"] == 50_001
        assert {w["code"] for w in a["warnings"]} == {
            "cpf_status_unknown",
            "no_signed_convention",
            "zero_price",
        }

        csv = await client.get(
            "/v1/bpf.csv", params={**QUERY, "site": site_a}, headers=auth(["quality_lead"])
        )
        assert csv.status_code == 200
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.splitlines()
        assert lines[0] == "from,to,site,figure,value,dossier_id"
        assert f"2025-01-01,2026-01-01,{site_a},bilans,3," in lines
        assert f"2025-01-01,2026-01-01,{site_a},revenue_cents_by_line.C-7,50001," in lines
        assert f"2025-01-01,2026-01-01,{site_a},staff_hours.own.hours,7.0," in lines
        assert f"2025-01-01,2026-01-01,{site_a},warning.cpf_status_unknown,1,{ids['cpf']}" in lines

        # The same rules as the indicators: a period the wrong way round, a site not covered.
        wrong = await client.get(
            "/v1/bpf", params={"from": "2026-01-01", "to": "2025-01-01"}, headers=auth(["admin"])
        )
        assert wrong.status_code == 400
        assert wrong.json()["code"] == "invalid_period"
        other_site = await client.get(
            "/v1/bpf", params={**QUERY, "site": site_b}, headers=auth(["auditor"], [site_a])
        )
        assert other_site.status_code == 403
        assert (
            await client.get("/v1/bpf", params=QUERY, headers=auth(["consultant"]))
        ).status_code == 403
