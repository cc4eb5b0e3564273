"""The spatial index of driver positions: in memory, and Redis GEO (real Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from shared.settings import Settings
from shared.subgraph import SubgraphRuntime
from subgraphs.delivery.eta import Point, haversine_meters
from subgraphs.delivery.positions import (
    InMemoryPositionIndex,
    PositionIndex,
    RedisPositionIndex,
    position_index,
)
from tests.subgraphs.delivery.conftest import REDIS_URL

STORE = Point(30.2669, -97.7428)
OTHER_STORE = "sto_other"


def north(metres: float) -> Point:
    return Point(STORE.lat + metres / 111_195, STORE.lng)


@pytest.fixture
async def redis_index(redis_namespace: str) -> AsyncIterator[RedisPositionIndex]:
    index = RedisPositionIndex(REDIS_URL, namespace=redis_namespace)
    yield index
    await index.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def index(request: pytest.FixtureRequest) -> PositionIndex:
    if request.param == "memory":
        return InMemoryPositionIndex()
    return request.getfixturevalue("redis_index")


async def test_nearest_lists_the_stores_drivers_nearest_first(index: PositionIndex) -> None:
    await index.record(store_id="s1", driver_id="far", point=north(2000))
    await index.record(store_id="s1", driver_id="near", point=north(50))
    found = await index.nearest(store_id="s1", center=STORE)
    assert [p.driver_id for p in found] == ["near", "far"]
    assert found[0].distance_meters == pytest.approx(50, abs=1)
    assert haversine_meters(found[1].point, north(2000)) < 1  # GEO precision: well under 1 m


async def test_the_latest_position_replaces_the_previous_one(index: PositionIndex) -> None:
    await index.record(store_id="s1", driver_id="d1", point=north(3000))
    await index.record(store_id="s1", driver_id="d1", point=north(10))
    [only] = await index.nearest(store_id="s1", center=STORE)
    assert only.distance_meters == pytest.approx(10, abs=1)


async def test_other_stores_drivers_are_not_listed(index: PositionIndex) -> None:
    await index.record(store_id=OTHER_STORE, driver_id="d2", point=north(5))
    assert await index.nearest(store_id="s1", center=STORE) == []


async def test_drivers_beyond_the_radius_are_not_listed(index: PositionIndex) -> None:
    await index.record(store_id="s1", driver_id="d1", point=north(5000))
    assert await index.nearest(store_id="s1", center=STORE, radius_meters=1000) == []


@pytest.mark.redis
async def test_redis_keeps_one_geo_set_per_store_under_the_namespace(redis_namespace) -> None:
    index = RedisPositionIndex(REDIS_URL, namespace=redis_namespace)
    await index.record(store_id="s1", driver_id="d1", point=north(10))
    await index.close()
    client = redis.Redis.from_url(REDIS_URL)
    try:
        key = f"{redis_namespace}:delivery:positions:s1"
        assert [k async for k in client.scan_iter(match=f"{redis_namespace}:*")] == [key.encode()]
        [(lng, lat)] = await client.geopos(key, "d1")
        assert haversine_meters(Point(lat, lng), north(10)) < 1
        assert 0 < await client.ttl(key) <= 24 * 3600
    finally:
        await client.aclose()


async def test_an_unreachable_redis_is_an_empty_index_not_an_error() -> None:
    index = RedisPositionIndex("redis://127.0.0.1:1/0", namespace="pizza-test-nowhere")
    await index.record(store_id="s1", driver_id="d1", point=north(10))
    assert await index.nearest(store_id="s1", center=STORE) == []
    await index.close()


def test_the_runtime_index_is_redis_when_a_redis_url_is_set(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, redis_url=REDIS_URL, bus_namespace="pizza-x")
    runtime = SubgraphRuntime.create("delivery", settings=settings, bus=object())  # type: ignore[arg-type]
    index = position_index(runtime)
    assert isinstance(index, RedisPositionIndex)
    assert index.key("s1") == "pizza-x:delivery:positions:s1"
    assert position_index(runtime) is index


def test_the_runtime_index_is_in_memory_without_redis(tmp_path) -> None:
    runtime = SubgraphRuntime.create("delivery", settings=Settings(data_dir=tmp_path), bus=object())  # type: ignore[arg-type]
    assert isinstance(position_index(runtime), InMemoryPositionIndex)
