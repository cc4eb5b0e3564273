"""The spatial index of drivers' latest positions: Redis GEO, or in memory in embedded mode.

Enters: each position a driver posts (:meth:`PositionIndex.record`). Leaves: the drivers of a
store nearest to a point, nearest first (:meth:`PositionIndex.nearest`), which dispatch uses to
find the driver nearest to the store.

Distributed mode (``PIZZA_REDIS_URL`` set): one GEO set per store,
``{PIZZA_BUS_NAMESPACE}:delivery:positions:{store_id}`` (``GEOADD``, ``GEOSEARCH``), shared by
every replica. Embedded mode: a dict in this process. The index is a cache of the ``drivers``
rows, never the source of truth: Redis errors are logged, not raised, and a driver missing from
the index (Redis restarted, never posted since) falls back to the position in the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from shared.subgraph import SubgraphRuntime
from subgraphs.delivery.eta import Point, haversine_meters

log = logging.getLogger(__name__)

SEARCH_RADIUS_METERS = 50_000.0
"""How far from a store :meth:`PositionIndex.nearest` looks (a city); farther drivers fall back
to their position in the database."""
KEY_TTL_SECONDS = 24 * 3600
"""A store's GEO set expires a day after its last position: idle stores leave nothing behind."""
EXTRAS_KEY = "delivery_positions"
"""Where the runtime keeps its index (tests may put their own there)."""


@dataclass(frozen=True, slots=True)
class IndexedPosition:
    """A driver's latest position in the index and its distance from the search centre."""

    driver_id: str
    point: Point
    distance_meters: float


class PositionIndex(Protocol):
    """Latest driver positions, searchable by distance, per store."""

    async def record(self, *, store_id: str, driver_id: str, point: Point) -> None:
        """Keep ``point`` as where ``driver_id`` (of ``store_id``) is now."""

    async def nearest(
        self, *, store_id: str, center: Point, radius_meters: float = SEARCH_RADIUS_METERS
    ) -> list[IndexedPosition]:
        """The store's drivers within ``radius_meters`` of ``center``, nearest first."""

    async def close(self) -> None:
        """Release connections."""


class InMemoryPositionIndex:
    """Embedded mode: positions in a dict of this process (lost on restart, like Redis)."""

    def __init__(self) -> None:
        self._stores: dict[str, dict[str, Point]] = {}

    async def record(self, *, store_id: str, driver_id: str, point: Point) -> None:
        for other, drivers in self._stores.items():
            if other != store_id:
                drivers.pop(driver_id, None)
        self._stores.setdefault(store_id, {})[driver_id] = point

    async def nearest(
        self, *, store_id: str, center: Point, radius_meters: float = SEARCH_RADIUS_METERS
    ) -> list[IndexedPosition]:
        found = [
            IndexedPosition(driver_id, point, haversine_meters(center, point))
            for driver_id, point in self._stores.get(store_id, {}).items()
        ]
        return sorted(
            (p for p in found if p.distance_meters <= radius_meters),
            key=lambda p: (p.distance_meters, p.driver_id),
        )

    async def close(self) -> None:
        self._stores.clear()


class RedisPositionIndex:
    """Distributed mode: one Redis GEO set per store, under ``{namespace}:delivery:positions:``."""

    def __init__(self, url: str, *, namespace: str) -> None:
        import redis.asyncio as redis

        self.prefix = f"{namespace}:delivery:positions:"
        self._client: Any = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    def key(self, store_id: str) -> str:
        """The GEO set of one store's drivers."""
        return self.prefix + store_id

    async def record(self, *, store_id: str, driver_id: str, point: Point) -> None:
        key = self.key(store_id)
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.geoadd(key, [point.lng, point.lat, driver_id])
                pipe.expire(key, KEY_TTL_SECONDS)
                await pipe.execute()
        except Exception as error:  # Redis down: the database row still has the position
            log.warning("driver position not indexed (%s)", type(error).__name__)

    async def nearest(
        self, *, store_id: str, center: Point, radius_meters: float = SEARCH_RADIUS_METERS
    ) -> list[IndexedPosition]:
        try:
            rows = await self._client.geosearch(
                self.key(store_id),
                longitude=center.lng,
                latitude=center.lat,
                radius=radius_meters,
                unit="m",
                sort="ASC",
                withdist=True,
                withcoord=True,
            )
        except Exception as error:  # Redis down: dispatch uses the database positions
            log.warning("driver position index unavailable (%s)", type(error).__name__)
            return []
        return [
            IndexedPosition(
                driver_id=member.decode() if isinstance(member, bytes) else str(member),
                point=Point(lat=float(lat), lng=float(lng)),
                distance_meters=float(distance),
            )
            for member, distance, (lng, lat) in rows
        ]

    async def close(self) -> None:
        await self._client.aclose()


def position_index(runtime: SubgraphRuntime) -> PositionIndex:
    """The runtime's index: Redis GEO when ``PIZZA_REDIS_URL`` is set, else in memory."""
    index = runtime.extras.get(EXTRAS_KEY)
    if index is None:
        settings = runtime.settings
        index = (
            RedisPositionIndex(settings.redis_url, namespace=settings.bus_namespace)
            if settings.redis_url
            else InMemoryPositionIndex()
        )
        runtime.extras[EXTRAS_KEY] = index
    return index


async def close_position_index(runtime: SubgraphRuntime) -> None:
    """Close and forget the runtime's index (on shutdown)."""
    index = runtime.extras.pop(EXTRAS_KEY, None)
    if index is not None:
        await index.close()
