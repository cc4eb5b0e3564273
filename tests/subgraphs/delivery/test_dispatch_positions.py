"""Dispatch finds the nearest driver through the position index (in memory, and real Redis).

Every test runs twice: embedded mode (in-memory index) and with ``PIZZA_REDIS_URL`` (Redis GEO
under a namespace of the test). Demo drivers Ana and Ben start 22 m and 44 m north of the
Downtown store in the database, and nowhere in the index.
"""

from __future__ import annotations

import pytest
import redis.asyncio as redis

from shared.settings import Settings
from subgraphs.delivery.eta import Point, haversine_meters
from subgraphs.delivery.positions import position_index
from tests.conftest import bearer, gql
from tests.subgraphs.delivery.conftest import REDIS_URL
from tests.subgraphs.delivery.test_api import (
    ANA,
    BEN,
    POST_POSITION,
    STORE,
    placed,
    publish,
    status_changed,
    track,
)

STORE_POINT = Point(30.2669, -97.7428)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def settings(request: pytest.FixtureRequest, tmp_path) -> Settings:
    """Overrides ``tests/conftest.py``: embedded mode, or Redis under the test's namespace."""
    if request.param == "memory":
        return Settings(data_dir=tmp_path)
    return request.getfixturevalue("redis_settings")


def north(metres: float) -> dict[str, float]:
    return {"lat": STORE_POINT.lat + metres / 111_195, "lng": STORE_POINT.lng}


async def post_position(delivery, settings, driver_id: str, metres_north: float) -> None:
    body = await gql(
        delivery,
        POST_POSITION,
        {"i": north(metres_north)},
        headers=bearer(settings, driver_id, "DRIVER", store_id=STORE),
    )
    assert "errors" not in body, body


async def dispatched_driver(delivery, bus, settings, order_id: str = "ord_1") -> str | None:
    await publish(bus, placed(order_id), status_changed(order_id, "QUALITY_CHECK"))
    driver = (await track(delivery, settings, order_id))["driver"]
    return driver["id"] if driver else None


async def forget_every_position(delivery, settings: Settings) -> None:
    if not settings.redis_url:
        await position_index(delivery.runtime).close()  # the in-memory index forgets all
        return
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{settings.bus_namespace}:delivery:*")]
        assert keys
        await client.delete(*keys)
    finally:
        await client.aclose()


async def test_a_posted_position_is_indexed(start_subgraph, settings) -> None:
    delivery = await start_subgraph("delivery")
    await post_position(delivery, settings, ANA, 500)
    index = position_index(delivery.runtime)
    [found] = await index.nearest(store_id=STORE, center=STORE_POINT)
    assert found.driver_id == ANA
    assert haversine_meters(found.point, Point(**north(500))) < 1


async def test_dispatch_takes_positions_from_the_index(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    index = position_index(delivery.runtime)
    await index.record(store_id=STORE, driver_id=ANA, point=Point(**north(2000)))
    await index.record(store_id=STORE, driver_id=BEN, point=STORE_POINT)
    assert await dispatched_driver(delivery, bus, settings) == BEN  # the database says Ana


async def test_a_driver_missing_from_the_index_keeps_the_database_position(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await position_index(delivery.runtime).record(
        store_id=STORE, driver_id=ANA, point=Point(**north(2000))
    )
    assert await dispatched_driver(delivery, bus, settings) == BEN  # Ben: 44 m, from the database


async def test_dispatch_falls_back_to_the_database_when_the_index_lost_everything(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await post_position(delivery, settings, BEN, 3000)
    await post_position(delivery, settings, ANA, 10)
    await forget_every_position(delivery, settings)  # Redis restarted without persistence
    # With no position at all Ben would win the tie (smaller id); the database says Ana.
    assert await dispatched_driver(delivery, bus, settings) == ANA
