"""Where each aggregate's events live: one kit `Repository` per aggregate, on any `EventStore`.

Streams are `session-<id>`, `staff-<id>`, `site-<id>` and `room-<id>`. Each repository folds
its stream with the domain's `evolve`, appends at the version read with the contract events
the new events publish (`application.contract`, through the outbox) and, for sessions, sites
and rooms, refreshes the read model in the same transaction. Staff records are mirrored by the
directory itself: each needs the sealed name the command carries, which no event holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from services.scheduling.adapters import read_models as rm
from services.scheduling.application import contract
from services.scheduling.domain import sessions as s
from services.scheduling.domain import sites
from services.scheduling.domain import staff as st
from shared.aggregate.codec import EventCodec
from shared.aggregate.repository import Loaded, Project, Repository
from shared.contracts.base import IntegrationEvent
from shared.eventstore import EventStore, OutboxMessage
from shared.runtime import outbox_message

Store = EventStore | Callable[[], EventStore]
E = TypeVar("E", sites.SiteOpened, sites.RoomRegistered)

ORGANISATION = "org"
"""`ce_siteid` of a staff fact about someone working at several sites."""


def sessions(store: Store) -> Repository[s.Session, s.Event]:
    return Repository(
        prefix="session",
        codec=s.CODEC,
        evolve=s.evolve,
        store=store,
        outbox=_session_outbox,
        project=_project_session,
    )


def staff(store: Store) -> Repository[st.StaffMember, st.Event]:
    return Repository(
        prefix="staff", codec=st.CODEC, evolve=st.evolve, store=store, outbox=_staff_outbox
    )


def site_streams(store: Store) -> Repository[sites.SiteOpened, sites.SiteOpened]:
    return _created_once("site", sites.SITE_CODEC, store, contract.site_event, _project_site)


def room_streams(store: Store) -> Repository[sites.RoomRegistered, sites.RoomRegistered]:
    return _created_once("room", sites.ROOM_CODEC, store, contract.room_event, _project_room)


def _created_once(
    prefix: str,
    codec: EventCodec[E],
    store: Store,
    published: Callable[[E], IntegrationEvent],
    project: Project[E],
) -> Repository[E, E]:
    """A stream holding one event, its creation (a site's opening, a room's registration):
    the state is that event, published on its site."""
    return Repository(
        prefix=prefix,
        codec=codec,
        evolve=_itself,
        store=store,
        outbox=lambda _state, event: [outbox_message(published(event), str(event.site_id))],
        project=project,
    )


NEW: Loaded[Any] = Loaded(None, 0)
"""A stream not written yet (sites and rooms are created once, checked on the read model)."""


def staff_site(site_ids: Sequence[UUID] | frozenset[UUID]) -> str:
    """`ce_siteid` of a staff fact: their site, or `org` when they work at several."""
    distinct = set(site_ids)
    return str(next(iter(distinct))) if len(distinct) == 1 else ORGANISATION


def _session_outbox(after: s.Session, event: s.Event) -> list[OutboxMessage]:
    return [outbox_message(contract.session_event(after, event), str(after.site_id))]


async def _project_session(
    conn: Any, _before: s.Session | None, after: s.Session, version: int
) -> None:
    await rm.save_session(conn, after, version)


def _staff_outbox(after: st.StaffMember, event: st.Event) -> list[OutboxMessage]:
    return [outbox_message(contract.staff_event(after.staff_id, event), staff_site(after.site_ids))]


def _itself(_state: E | None, event: E) -> E:
    return event


async def _project_site(conn: Any, _before: object, site: sites.SiteOpened, _version: int) -> None:
    await rm.insert_site(conn, site.site_id, site.name, site.region, site.opened_at, site.address)


async def _project_room(
    conn: Any, _before: object, room: sites.RoomRegistered, _version: int
) -> None:
    await rm.insert_room(
        conn, room.room_id, room.site_id, room.name, room.confidential, room.registered_at
    )
