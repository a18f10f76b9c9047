"""Events stored before the domain moved to the kit's dataclasses still read, and events
written now are stored exactly as they were: the payloads below were written by the pydantic
models of the earlier domain (`git show a239f81:services/scheduling/domain/sessions.py`, and
`staff.py`, `sites.py`), with UTC and offset times, an int given to a float field, optional
fields absent and set."""

# ruff: noqa: E501 (the stored payloads are kept as written, one line each)
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from services.scheduling.domain import sessions as s
from services.scheduling.domain import sites
from services.scheduling.domain import staff as st
from services.scheduling.domain.stored import StoredCodec
from shared.aggregate.codec import CodecError, MissingField

SESSION = "00000000-0000-4000-8000-000000000001"
DOSSIER = "00000000-0000-4000-8000-000000000002"
SITE = "00000000-0000-4000-8000-000000000003"
STAFF = "00000000-0000-4000-8000-000000000004"
ROOM = "00000000-0000-4000-8000-000000000005"
OTHER_SITE = "00000000-0000-4000-8000-000000000006"
UTC_TIME = "2026-03-10T09:00:00Z"
PARIS_TIME = "2026-03-10T10:30:00.250000+01:00"
T = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
P = datetime(2026, 3, 10, 10, 30, 0, 250000, tzinfo=timezone(timedelta(hours=1)))

STORED: list[tuple[StoredCodec[Any], str]] = [
    (
        s.CODEC,
        f'{{"type": "SessionScheduled", "session_id": "{SESSION}", "dossier_id": "{DOSSIER}", "site_id": "{SITE}", "consultant_id": "{STAFF}", "room_id": "{ROOM}", "modality": "in_person", "phase": "investigation", "starts_at": "{UTC_TIME}", "planned_minutes": 120, "join_link": null, "assessment_reason": null, "scheduled_at": "{PARIS_TIME}"}}',
    ),
    (
        s.CODEC,
        f'{{"type": "SessionScheduled", "session_id": "{SESSION}", "dossier_id": "{DOSSIER}", "site_id": "{SITE}", "consultant_id": "{STAFF}", "room_id": null, "modality": "remote", "phase": "conclusion", "starts_at": "{PARIS_TIME}", "planned_minutes": 90, "join_link": "https://visio.example/s/abc", "assessment_reason": "habilitation_required", "scheduled_at": "{UTC_TIME}"}}',
    ),
    (
        s.CODEC,
        f'{{"type": "SessionRescheduled", "starts_at": "{UTC_TIME}", "previous_starts_at": "{PARIS_TIME}", "requested_by": "beneficiary", "rescheduled_at": "{UTC_TIME}"}}',
    ),
    (
        s.CODEC,
        f'{{"type": "SessionCancelled", "cancelled_by": "provider", "notice_hours": 24.0, "reason": "illness", "cancelled_at": "{UTC_TIME}"}}',
    ),
    (
        s.CODEC,
        f'{{"type": "SessionCancelled", "cancelled_by": "beneficiary", "notice_hours": 12.5, "reason": "other", "cancelled_at": "{PARIS_TIME}"}}',
    ),
    (s.CODEC, f'{{"type": "NoShowRecorded", "recorded_at": "{UTC_TIME}"}}'),
    (s.CODEC, f'{{"type": "SessionHeld", "started_at": "{PARIS_TIME}", "duration_minutes": 115}}'),
    (
        s.CODEC,
        f'{{"type": "AttendanceSigned", "signer_role": "consultant", "signed_at": "{UTC_TIME}"}}',
    ),
    (s.CODEC, f'{{"type": "ReminderSent", "offset_minutes": 1440, "sent_at": "{UTC_TIME}"}}'),
    (
        st.CODEC,
        f'{{"type": "StaffMemberOnboarded", "staff_id": "{STAFF}", "roles": ["consultant", "psychologist"], "site_ids": ["{SITE}", "{OTHER_SITE}"], "contract": "employee", "onboarded_at": "{UTC_TIME}"}}',
    ),
    (
        st.CODEC,
        f'{{"type": "QualificationRecorded", "qualification": "master_psychologie", "habilitations": ["psychometric_tests"], "recorded_at": "{PARIS_TIME}", "registry": "rpps", "registration_sealed": "enc:v1:xyz"}}',
    ),
    (
        st.CODEC,
        f'{{"type": "QualificationRecorded", "qualification": "coaching", "habilitations": [], "recorded_at": "{UTC_TIME}", "registry": null, "registration_sealed": null}}',
    ),
    (
        st.CODEC,
        f'{{"type": "ContinuousTrainingCompleted", "title_code": "deontologie_bilan", "hours": 7.0, "completed_at": "{UTC_TIME}"}}',
    ),
    (
        st.CODEC,
        f'{{"type": "ContinuousTrainingCompleted", "title_code": "ethique", "hours": 3.5, "completed_at": "{PARIS_TIME}"}}',
    ),
    (
        st.CODEC,
        f'{{"type": "CompetenceEvaluated", "outcome": "partially_meets", "evaluated_at": "{UTC_TIME}"}}',
    ),
    (st.CODEC, f'{{"type": "StaffMemberLeft", "left_at": "{PARIS_TIME}"}}'),
    (
        sites.SITE_CODEC,
        f'{{"type": "SiteOpened", "site_id": "{SITE}", "name": "Lyon Part-Dieu", "region": "auvergne_rhone_alpes", "opened_at": "{UTC_TIME}", "address": null}}',
    ),
    (
        sites.SITE_CODEC,
        f'{{"type": "SiteOpened", "site_id": "{SITE}", "name": "Lyon Part-Dieu", "region": "auvergne_rhone_alpes", "opened_at": "{UTC_TIME}", "address": "12 rue de la Villette, 69003 Lyon"}}',
    ),
    (
        sites.ROOM_CODEC,
        f'{{"type": "RoomRegistered", "room_id": "{ROOM}", "site_id": "{SITE}", "name": "B12", "confidential": true, "registered_at": "{PARIS_TIME}"}}',
    ),
]


@pytest.mark.parametrize(("codec", "payload"), STORED)
def test_a_stored_event_reads_and_is_written_again_byte_for_byte(
    codec: StoredCodec[Any], payload: str
) -> None:
    data = json.loads(payload)
    event = codec.decode(data["type"], data, {})
    encoded = codec.encode(event)
    assert (encoded.type, encoded.metadata) == (data["type"], {})
    assert json.dumps(encoded.data) == payload


def test_stored_fields_read_with_their_declared_types() -> None:
    (_, scheduled), (_, remote) = STORED[0], STORED[1]
    event = s.CODEC.decode("SessionScheduled", json.loads(scheduled))
    assert isinstance(event, s.SessionScheduled)
    assert (event.session_id, event.room_id) == (uuid.UUID(SESSION), uuid.UUID(ROOM))
    assert (event.starts_at, event.scheduled_at) == (T, P)
    assert event.starts_at.utcoffset() == timedelta(0)
    assert s.CODEC.decode("SessionScheduled", json.loads(remote)) == s.SessionScheduled(
        session_id=uuid.UUID(SESSION),
        dossier_id=uuid.UUID(DOSSIER),
        site_id=uuid.UUID(SITE),
        consultant_id=uuid.UUID(STAFF),
        room_id=None,
        modality="remote",
        phase="conclusion",
        starts_at=P,
        planned_minutes=90,
        join_link="https://visio.example/s/abc",
        assessment_reason="habilitation_required",
        scheduled_at=T,
    )
    onboarded = st.CODEC.decode("StaffMemberOnboarded", json.loads(STORED[9][1]))
    assert isinstance(onboarded, st.StaffMemberOnboarded)
    assert onboarded.site_ids == [uuid.UUID(SITE), uuid.UUID(OTHER_SITE)]


SITE_BEFORE_ADDRESSES = f'{{"type": "SiteOpened", "site_id": "{SITE}", "name": "Lyon Part-Dieu", "region": "auvergne_rhone_alpes", "opened_at": "{UTC_TIME}"}}'
"""A site opened before sites had an address (d9eafdb): the data has no `address` key."""


def test_a_site_opened_before_addresses_reads_without_one() -> None:
    opened = sites.SITE_CODEC.decode("SiteOpened", json.loads(SITE_BEFORE_ADDRESSES))
    assert opened == sites.SiteOpened(
        site_id=uuid.UUID(SITE),
        name="Lyon Part-Dieu",
        region="auvergne_rhone_alpes",
        opened_at=T,
        address=None,
    )


def test_an_int_given_to_a_float_field_is_stored_as_a_float() -> None:
    training = st.ContinuousTrainingCompleted(title_code="ethique", hours=7, completed_at=T)
    assert json.dumps(st.CODEC.encode(training).data) == (
        f'{{"type": "ContinuousTrainingCompleted", "title_code": "ethique", "hours": 7.0, '
        f'"completed_at": "{UTC_TIME}"}}'
    )


def test_a_stored_event_that_does_not_fit_is_refused() -> None:
    with pytest.raises(CodecError):
        s.CODEC.decode("NoShowRecorded", {"type": "SessionHeld", "recorded_at": UTC_TIME})
    with pytest.raises(MissingField):
        s.CODEC.decode("NoShowRecorded", {"type": "NoShowRecorded"})
    with pytest.raises(MissingField):
        s.CODEC.decode("NoShowRecorded", {"recorded_at": UTC_TIME, "by": "someone"})
