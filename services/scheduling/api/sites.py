"""Sites and their rooms."""

from __future__ import annotations

from dataclasses import asdict
from uuid import UUID, uuid4

from fastapi import APIRouter

from services.scheduling.api import schemas as b
from services.scheduling.api.deps import (
    Admin,
    Manager,
    Service,
    StaffReader,
)

router = APIRouter(tags=["sites"])


@router.post(
    "/sites",
    status_code=201,
    response_model=b.SiteOut,
    summary="Open a site (admin)",
)
async def open_site(body: b.OpenSiteBody, who: Admin, svc: Service) -> b.SiteOut:
    event = await svc.directory.open_site(uuid4(), body.name, body.region, body.address)
    return b.SiteOut(**asdict(event))


@router.get(
    "/sites",
    response_model=list[b.SiteOut],
    summary="The sites the caller's token covers",
)
async def list_sites(who: StaffReader, svc: Service) -> list[b.SiteOut]:
    rows = await svc.directory.sites(who)
    return [b.SiteOut(**dict(r)) for r in rows]


@router.post(
    "/sites/{site_id}/rooms",
    status_code=201,
    response_model=b.RoomOut,
    summary="Register a room, saying whether it is confidential",
)
async def register_room(
    site_id: UUID, body: b.RegisterRoomBody, who: Manager, svc: Service
) -> b.RoomOut:
    event = await svc.directory.register_room(who, site_id, body.name, body.confidential)
    return b.RoomOut(**asdict(event))


@router.get(
    "/sites/{site_id}/rooms",
    response_model=list[b.RoomOut],
    summary="Rooms of a site",
)
async def list_rooms(site_id: UUID, who: StaffReader, svc: Service) -> list[b.RoomOut]:
    return [b.RoomOut(**dict(r)) for r in await svc.directory.rooms(who, site_id)]
