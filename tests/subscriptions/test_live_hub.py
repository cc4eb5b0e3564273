"""``shared.live``: bounded buffers, and Redis pub/sub shared by processes (real Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from shared.live import InProcessLiveHub, LiveSubscription, RedisLiveHub

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _next(subscription: LiveSubscription) -> dict:
    async with asyncio.timeout(5):
        return await anext(subscription)


async def test_a_slow_subscriber_keeps_only_the_latest_payloads() -> None:
    hub = InProcessLiveHub()
    async with hub.subscribe("driver-position:o1", buffer=1) as slow:
        for index in range(5):
            await hub.publish("driver-position:o1", {"index": index})
        assert await _next(slow) == {"index": 4}
        assert slow.dropped == 4


async def test_one_slow_subscriber_does_not_hold_up_another() -> None:
    hub = InProcessLiveHub()
    async with hub.subscribe("order:o1", buffer=2) as slow, hub.subscribe("order:o1") as fast:
        for index in range(10):
            await hub.publish("order:o1", {"index": index})
            assert await _next(fast) == {"index": index}
        assert [await _next(slow), await _next(slow)] == [{"index": 8}, {"index": 9}]


async def test_leaving_unregisters_the_subscriber() -> None:
    hub = InProcessLiveHub()
    async with hub.subscribe("order:o1"):
        assert hub.subscriber_count("order:o1") == 1
    assert hub.subscriber_count() == 0


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (redis.RedisError, OSError):
        pytest.skip("Redis is not running")
    finally:
        await client.aclose()
    yield f"pizza-test-live-{uuid.uuid4().hex[:8]}"


@pytest.mark.redis
async def test_every_replica_sees_every_update_through_redis(namespace: str) -> None:
    publisher = RedisLiveHub(REDIS_URL, namespace=namespace)
    replicas = [RedisLiveHub(REDIS_URL, namespace=namespace) for _ in range(2)]
    try:
        async with (
            replicas[0].subscribe("order:o1") as first,
            replicas[1].subscribe("order:o1") as second,
            replicas[1].subscribe("order:o2") as other,
        ):
            await publisher.publish("order:o1", {"status": "PREP"})
            assert await _next(first) == {"status": "PREP"}
            assert await _next(second) == {"status": "PREP"}
            await publisher.publish("order:o2", {"status": "BAKE"})
            assert await _next(other) == {"status": "BAKE"}
    finally:
        for hub in (publisher, *replicas):
            await hub.close()


@pytest.mark.redis
async def test_the_hub_resubscribes_after_losing_its_redis_connection(namespace: str) -> None:
    publisher = RedisLiveHub(REDIS_URL, namespace=namespace)
    listener = RedisLiveHub(REDIS_URL, namespace=namespace)
    admin = redis.Redis.from_url(REDIS_URL)
    try:
        async with listener.subscribe("order:o1") as updates:
            await publisher.publish("order:o1", {"n": 1})
            assert await _next(updates) == {"n": 1}
            # Kill the listener's pub/sub connection, as a Redis restart would.
            for client in await admin.client_list(_type="pubsub"):
                if client.get("name") == f"{namespace}-live":
                    await admin.client_kill_filter(_id=client["id"])

            async def delivered() -> dict:
                while True:
                    await publisher.publish("order:o1", {"n": 2})
                    try:
                        async with asyncio.timeout(0.3):
                            return await anext(updates)
                    except TimeoutError:
                        continue

            async with asyncio.timeout(15):
                assert await delivered() == {"n": 2}
    finally:
        await admin.aclose()
        for hub in (publisher, listener):
            await hub.close()
