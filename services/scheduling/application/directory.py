"""Command handlers of sites, rooms and staff (the team a Qualiopi audit looks at)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg

from services.scheduling.adapters import read_models as rm
from services.scheduling.application import aggregates
from services.scheduling.application.access import require_site_visible
from services.scheduling.domain import sites
from services.scheduling.domain import staff as st
from services.scheduling.domain.errors import Rejected, RejectionKind, conflict, not_found
from services.scheduling.domain.values import Contract, StaffRole
from shared import timers
from shared.aggregate.repository import Loaded
from shared.auth import Principal
from shared.blind_index import email_index
from shared.clock import Clock
from shared.db import Connection
from shared.eventstore import EventStore
from shared.keystore import KeyStore
from shared.logging import get_logger
from shared.mail import Contact
from shared.unit_of_work import unit_of_work

NAME_PURPOSE = "staff.name"
EMAIL_PURPOSE = "staff.email"
REGISTRATION_PURPOSE = "staff.psychologist_registration"
SHRED_NAME = "scheduling.staff_name_shred"
"""Timer kind: the name of a staff member who left is erased once the retention is over."""
STAFF_REF = "staff:"
"""Mail recipient reference of a staff member (others are dossier ids)."""
log = get_logger(__name__)


class DirectoryService:
    """Opens sites, registers rooms, and keeps the staff records."""

    def __init__(
        self,
        *,
        pool: Callable[[], asyncpg.Pool],
        store: Callable[[], EventStore],
        keys: Callable[[], KeyStore],
        clock: Clock,
        name_retention: timedelta,
        blind_index_key: bytes,
    ) -> None:
        self._pool = pool
        self._staff = aggregates.staff(store)
        self._sites = aggregates.site_streams(store)
        self._rooms = aggregates.room_streams(store)
        self._keys = keys
        self._clock = clock
        self._name_retention = name_retention
        self._blind_index_key = blind_index_key

    async def open_site(
        self, site_id: UUID, name: str, region: str, address: str | None = None
    ) -> sites.SiteOpened:
        """Open a site (organisation-wide: admin only, checked by the route)."""
        async with unit_of_work(self._pool()) as conn:
            exists = await rm.site_exists(conn, site_id)
            (event,) = sites.decide_site(
                exists, sites.OpenSite(site_id, name, region, address), self._clock.now()
            )
            await self._sites.append(site_id, aggregates.NEW, [event], conn=conn)
            return event

    async def register_room(
        self, principal: Principal, site_id: UUID, name: str, confidential: bool
    ) -> sites.RoomRegistered:
        """Register a room of a site the caller manages."""
        require_site_visible(principal, site_id, "site")
        room_id = uuid4()
        async with unit_of_work(self._pool()) as conn:
            command = sites.RegisterRoom(
                room_id, site_id, name, confidential, await rm.site_exists(conn, site_id)
            )
            (event,) = sites.decide_room(False, command, self._clock.now())
            await self._rooms.append(room_id, aggregates.NEW, [event], conn=conn)
            return event

    async def onboard(
        self,
        principal: Principal,
        staff_id: UUID,
        *,
        name: str | None,
        roles: tuple[StaffRole, ...],
        site_ids: tuple[UUID, ...],
        contract_type: Contract,
        email: str | None = None,
    ) -> int:
        """Onboard a staff member at sites the caller manages; the name and the work address
        are sealed (the address also indexed for sign-in), neither published."""
        for site_id in site_ids:
            principal.require_site(site_id)
        async with unit_of_work(self._pool()) as conn:
            loaded = await self._staff.load(staff_id, conn=conn)
            command = st.OnboardStaffMember(
                staff_id, roles, site_ids, contract_type, await rm.open_sites(conn)
            )
            events = st.decide(loaded.state, command, self._clock.now())
            sealed = None
            if name:
                sealed = (
                    await self._keys().encrypt(str(staff_id), name, purpose=NAME_PURPOSE, conn=conn)
                ).text
            recorded = await self._record(conn, staff_id, loaded, events, sealed)
            if email is not None:
                await self._store_email(conn, staff_id, email)
            return recorded

    async def set_email(self, principal: Principal, staff_id: UUID, email: str) -> None:
        """Change a staff member's work address (a manager of one of their sites). Not an
        event: like the name, the address is personal data kept here only."""
        async with unit_of_work(self._pool()) as conn:
            await rm.lock_staff(conn, staff_id)
            row = await rm.staff_row(conn, staff_id)
            if row is None or not any(principal.can_act_on_site(x) for x in row["site_ids"]):
                raise not_found("staff_not_found", "no such staff member")
            if row["left_at"] is not None:
                raise conflict("staff_left", "this staff member has left")
            await self._store_email(conn, staff_id, email)

    async def _store_email(self, conn: Connection, staff_id: UUID, email: str) -> None:
        index = email_index(self._blind_index_key, email)
        # Serialise the check across staff members: two managers giving the same address
        # to two people at once could otherwise both pass it.
        await rm.lock(conn, f"staff-email:{index}")
        holders = await rm.active_staff_with_email_index(conn, index)
        if any(h["staff_id"] != staff_id for h in holders):
            raise conflict(
                "email_in_use", "another staff member already signs in with this address"
            )
        sealed = await self._keys().encrypt(str(staff_id), email, purpose=EMAIL_PURPOSE, conn=conn)
        await rm.set_staff_email(conn, staff_id, sealed.text, index)

    async def update(
        self,
        principal: Principal,
        staff_id: UUID,
        expected_version: int,
        command: st.Command,
    ) -> int:
        """Qualification, training, evaluation or leaving, by a manager of one of their sites;
        a psychologist's registration number is sealed under the staff member's key (the
        domain checks it in clear first; a refusal rolls the sealing back with the rest)."""
        async with unit_of_work(self._pool()) as conn:
            await rm.lock_staff(conn, staff_id)
            loaded = await self._staff.load(staff_id, conn=conn)
            state = loaded.state
            if state is None or not any(principal.can_act_on_site(x) for x in state.site_ids):
                raise not_found("staff_not_found", "no such staff member")
            # Only once the caller may act: a stale version would tell a stranger it exists.
            self._staff.check_version(staff_id, loaded, expected_version)
            if isinstance(command, st.RecordQualification) and command.registration_number:
                sealed = await self._keys().encrypt(
                    str(staff_id),
                    command.registration_number,
                    purpose=REGISTRATION_PURPOSE,
                    conn=conn,
                )
                command = replace(command, registration_sealed=sealed.text)
            events = st.decide(state, command, self._clock.now())
            for event in events:
                if isinstance(event, st.StaffMemberLeft):
                    await timers.schedule(
                        conn,
                        due_at=event.left_at + self._name_retention,
                        kind=SHRED_NAME,
                        payload={"staff_id": str(staff_id)},
                        key=f"staff:{staff_id}:shred-name",
                    )
            return await self._record(conn, staff_id, loaded, events, None)

    async def shred_name(self, conn: Connection, timer: timers.Timer) -> None:
        """The retention after leaving is over: the name goes, the facts stay (pseudonymous)."""
        await self._keys().shred(timer.payload["staff_id"], conn=conn)
        await rm.set_staff_email(conn, UUID(timer.payload["staff_id"]), None, None)
        log.info("staff_name_shredded", staff_id=timer.payload["staff_id"])

    async def sites(self, principal: Principal) -> list[asyncpg.Record]:
        """The sites the caller's token covers."""
        covered = None if principal.all_sites else principal.sites
        return await rm.list_sites(self._pool(), covered)

    async def rooms(self, principal: Principal, site_id: UUID) -> list[asyncpg.Record]:
        require_site_visible(principal, site_id, "site")
        if not await rm.site_exists(self._pool(), site_id):
            raise not_found("site_not_found", "no such site")
        return await rm.list_rooms(self._pool(), site_id)

    async def staff_of_site(self, principal: Principal, site_id: UUID) -> list[asyncpg.Record]:
        require_site_visible(principal, site_id, "site")
        return await rm.list_staff(self._pool(), site_id)

    async def staff_member(
        self, principal: Principal, staff_id: UUID
    ) -> tuple[asyncpg.Record, list[asyncpg.Record], str | None, str | None]:
        """The staff record, its qualifications, training and evaluations, the name and the
        work address."""
        row = await rm.staff_row(self._pool(), staff_id)
        if row is None or not any(principal.can_act_on_site(x) for x in row["site_ids"]):
            raise not_found("staff_not_found", "no such staff member")
        name = await self._open(staff_id, row["name_sealed"], NAME_PURPOSE)
        email = await self._open(staff_id, row["email_sealed"], EMAIL_PURPOSE)
        return row, await rm.staff_records(self._pool(), staff_id), name, email

    async def _open(self, staff_id: UUID, sealed: str | None, purpose: str) -> str | None:
        if not sealed:
            return None
        plain = await self._keys().decrypt(str(staff_id), sealed, purpose=purpose)
        return plain if isinstance(plain, str) else None

    # --- internal look-ups (role `service`: the console's sign-in, the mails to staff) ------

    async def active_by_email_index(self, index: str) -> list[asyncpg.Record]:
        """Staff still working here whose work address has that blind index."""
        return await rm.active_staff_with_email_index(self._pool(), index)

    async def active_member(self, staff_id: UUID) -> asyncpg.Record:
        """A staff member who has not left (a session's roles and sites come from here)."""
        row = await rm.staff_row(self._pool(), staff_id)
        if row is None or row["left_at"] is not None:
            raise not_found("staff_not_found", "no such staff member (or they left)")
        return row

    async def contact(self, staff_id: UUID) -> Contact:
        """How to write to a staff member, at send time: 404 unknown or without an address,
        410 left or erased."""
        row = await rm.staff_row(self._pool(), staff_id)
        if row is None:
            raise not_found("staff_not_found", "no such staff member")
        if row["left_at"] is not None:
            raise Rejected(RejectionKind.GONE, "staff_left", "this staff member has left")
        if not row["email_sealed"]:
            raise not_found("staff_email_unknown", "no work address recorded for them")
        email = await self._open(staff_id, row["email_sealed"], EMAIL_PURPOSE)
        if email is None:
            raise Rejected(RejectionKind.GONE, "staff_erased", "this address was erased")
        name = await self._open(staff_id, row["name_sealed"], NAME_PURPOSE)
        return Contact(name=name or "", email=email)

    async def resolve_contact(self, recipient_ref: str) -> Contact | None:
        """The mail sender's resolver for `staff:<id>` references (None: nobody to write to)."""
        try:
            return await self.contact(UUID(recipient_ref.removeprefix(STAFF_REF)))
        except (Rejected, ValueError):
            return None

    async def people_and_places(
        self, referent_id: UUID | None, sessions: list[tuple[UUID, UUID | None]]
    ) -> tuple[dict[UUID, str | None], dict[UUID, str | None]]:
        """Names of the referent and of the sessions' leaders, and where the sessions are:
        what a beneficiary needs to read their own bilan's schedule (caller checked access)."""
        staff_ids = {leader for leader, _ in sessions} | ({referent_id} if referent_id else set())
        names: dict[UUID, str | None] = {}
        for staff_id in staff_ids:
            row = await rm.staff_row(self._pool(), staff_id)
            names[staff_id] = None
            if row is not None and row["name_sealed"]:
                plain = await self._keys().decrypt(
                    str(staff_id), row["name_sealed"], purpose=NAME_PURPOSE
                )
                names[staff_id] = plain if isinstance(plain, str) else None
        places: dict[UUID, str | None] = {}
        for room_id in {room for _, room in sessions if room is not None}:
            places[room_id] = await rm.place_of(self._pool(), room_id)
        return names, places

    async def _record(
        self,
        conn: Connection,
        staff_id: UUID,
        loaded: Loaded[st.StaffMember],
        events: list[st.Event],
        name_sealed: str | None,
    ) -> int:
        """Append with the contract events, then mirror each event in the read model: the
        onboarding's row also keeps the sealed name, which no event holds."""
        after = await self._staff.append(staff_id, loaded, events, conn=conn)
        for offset, event in enumerate(events, start=loaded.version + 1):
            await rm.apply_staff_event(conn, staff_id, offset, event, name_sealed)
        return after.version
