"""Demo drivers and store locations of the demo city (loaded once, when empty)."""

from __future__ import annotations

from sqlalchemy import select

from shared import demo_ids
from shared.db import utcnow
from shared.subgraph import SubgraphRuntime
from subgraphs.delivery.models import Driver, StoreLocation

STORE_LOCATIONS = {
    demo_ids.STORE_DOWNTOWN: (30.2669, -97.7428),
    demo_ids.STORE_SOUTH_LAMAR: (30.2459, -97.7697),
    demo_ids.STORE_HYDE_PARK: (30.3059, -97.7272),
    demo_ids.STORE_EAST: (30.2628, -97.7189),
}
"""Coordinates of the demo stores (geo owns the stores; delivery keeps where they are)."""

VEHICLES = ("Scooter", "Hatchback", "E-bike", "Hatchback", "Scooter")


async def seed(runtime: SubgraphRuntime) -> None:
    """Store locations and every demo driver, AVAILABLE a few metres from their store."""
    async with runtime.db.session() as session:
        if await session.scalar(select(Driver.id).limit(1)):
            return
        for store_id, (lat, lng) in STORE_LOCATIONS.items():
            session.add(
                StoreLocation(store_id=store_id, lat=lat, lng=lng, prep_minutes=6, bake_minutes=7)
            )
        now = utcnow()
        for index, (user_id, (first_name, store_id)) in enumerate(demo_ids.DRIVERS.items()):
            lat, lng = STORE_LOCATIONS[store_id]
            session.add(
                Driver(
                    id=user_id,
                    first_name=first_name,
                    store_id=store_id,
                    status="AVAILABLE",
                    vehicle=VEHICLES[index % len(VEHICLES)],
                    available_since=now,
                    lat=lat + 0.0002 * (index + 1),
                    lng=lng,
                    heading=0.0,
                    speed=0.0,
                    position_at=now,
                )
            )
        await session.commit()
