"""A staff member's work address: given at onboarding or later, sealed at rest, found only by
its keyed blind index through the internal endpoints (role `service`), never on Kafka."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.scheduling.settings import Settings
from shared.blind_index import email_index
from tests.integration.kafka_reading import read_envelopes
from tests.integration.scheduling.harness import (
    Harness,
    auth,
    onboard,
    scheduling_offsets,
    setup_site,
)

SERVICE = auth(["service"], ["*"], subject="console")


def _index(address: str) -> str:
    return email_index(Settings().blind_index_key_bytes(), address)


async def test_the_work_address_is_sealed_looked_up_by_index_and_never_published(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        offsets = await scheduling_offsets(kafka_bootstrap)
        site_id, _room = await setup_site(client)
        manager = auth(["site_manager"], [site_id])
        address = f"claire.{uuid.uuid4().hex[:8]}@centre-bilan.fr"
        staff_id = await onboard(client, site_id, email=address)

        detail = await client.get(f"/staff/{staff_id}", headers=manager)
        assert detail.json()["email"] == address
        listed = await client.get(f"/sites/{site_id}/staff", headers=manager)
        assert address not in listed.text, "lists carry no addresses"
        stored = await svc.runtime.pool.fetchrow(
            "SELECT email_sealed, email_index FROM staff WHERE staff_id = $1", uuid.UUID(staff_id)
        )
        assert stored is not None
        assert stored["email_sealed"].startswith("enc:v1:")
        assert stored["email_index"] == _index(address)
        everything = await svc.runtime.pool.fetch("SELECT data FROM events")
        assert address not in str(everything)

        # Typed another way (spaces, capitals), the address finds the same person.
        found = await client.get(
            "/internal/staff",
            params={"email_index": _index(f"  {address.upper()} ")},
            headers=SERVICE,
        )
        assert found.status_code == 200, found.text
        assert found.json() == [
            {"staff_id": staff_id, "roles": ["consultant"], "site_ids": [site_id]}
        ]
        nobody = await client.get(
            "/internal/staff", params={"email_index": _index("x@y.fr")}, headers=SERVICE
        )
        assert nobody.json() == []
        not_hex = await client.get(
            "/internal/staff", params={"email_index": address}, headers=SERVICE
        )
        assert not_hex.status_code == 422
        as_manager = await client.get(
            "/internal/staff", params={"email_index": _index(address)}, headers=manager
        )
        assert as_manager.status_code == 403
        contact = await client.get(f"/internal/staff/{staff_id}/contact", headers=SERVICE)
        assert contact.json() == {"name": "Claire Dubois", "email": address}
        ref = await client.get(f"/internal/staff/{staff_id}", headers=SERVICE)
        assert ref.json()["roles"] == ["consultant"]

        # Changed: the old address finds nobody, the new one finds them.
        new = f"c.dubois.{uuid.uuid4().hex[:8]}@centre-bilan.fr"
        changed = await client.put(f"/staff/{staff_id}/email", json={"email": new}, headers=manager)
        assert changed.status_code == 200, changed.text
        assert changed.json()["email"] == new
        assert changed.json()["version"] == 1, "not an event: the stream is unchanged"
        old = await client.get(
            "/internal/staff", params={"email_index": _index(address)}, headers=SERVICE
        )
        assert old.json() == []
        now_found = await client.get(
            "/internal/staff", params={"email_index": _index(new)}, headers=SERVICE
        )
        assert [x["staff_id"] for x in now_found.json()] == [staff_id]

        # One address, one person: a colleague cannot be given it.
        colleague = await onboard(client, site_id, name="Paul Roux")
        taken = await client.put(
            f"/staff/{colleague}/email", json={"email": new.upper()}, headers=manager
        )
        assert (taken.status_code, taken.json()["code"]) == (409, "email_in_use")
        clash = await client.post(
            "/staff",
            json={
                "roles": ["consultant"],
                "site_ids": [site_id],
                "contract": "employee",
                "email": new,
            },
            headers=manager,
        )
        assert (clash.status_code, clash.json()["code"]) == (409, "email_in_use")
        without = await client.get(f"/internal/staff/{colleague}/contact", headers=SERVICE)
        assert (without.status_code, without.json()["code"]) == (404, "staff_email_unknown")
        bad = await client.put(
            f"/staff/{colleague}/email", json={"email": "pas une adresse"}, headers=manager
        )
        assert bad.status_code == 422
        assert "pas une adresse" not in bad.text
        elsewhere = auth(["site_manager"], [str(uuid.uuid4())])
        hidden = await client.put(
            f"/staff/{colleague}/email", json={"email": "p.roux@centre-bilan.fr"}, headers=elsewhere
        )
        assert hidden.status_code == 404

        # Once they left, the address no longer signs anyone in, nor receives mail.
        svc.clock.advance(timedelta(days=1))
        left = await client.post(
            f"/staff/{staff_id}/leaving",
            json={"left_at": svc.clock.now().isoformat()},
            headers={**manager, "If-Match": '"1"'},
        )
        assert left.status_code == 200, left.text
        gone = await client.get(
            "/internal/staff", params={"email_index": _index(new)}, headers=SERVICE
        )
        assert gone.json() == []
        assert (await client.get(f"/internal/staff/{staff_id}", headers=SERVICE)).status_code == 404
        contact_gone = await client.get(f"/internal/staff/{staff_id}/contact", headers=SERVICE)
        assert contact_gone.status_code == 410
        refused = await client.put(f"/staff/{staff_id}/email", json={"email": new}, headers=manager)
        assert (refused.status_code, refused.json()["code"]) == (409, "staff_left")

        # Nothing of either address crossed Kafka.
        records = await read_envelopes(
            kafka_bootstrap,
            offsets,
            keep=lambda e: e.subject in {staff_id, colleague},
            done=lambda got: len(got) >= 3,
        )
        assert {e.type.split(".")[2] for e in records} == {
            "StaffMemberOnboarded",
            "StaffMemberLeft",
        }
        for envelope in records:
            raw = envelope.data.model_dump_json()
            assert address not in raw
            assert new not in raw
            assert "email" not in raw
