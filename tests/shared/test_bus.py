"""The event bus: in-process delivery, and Redis Streams with consumer groups (real Redis)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from shared.bus import Event, InProcessBus, RedisStreamsBus

REDIS_URL = "redis://127.0.0.1:6379/0"


async def redis_or_skip() -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception:
        if os.environ.get("CI"):
            pytest.fail("Redis must be running in CI")
        pytest.skip("Redis is not running")
    finally:
        await client.aclose()


async def cleanup(namespace: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{namespace}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_in_process_bus_delivers_to_each_group_of_matching_type() -> None:
    bus = InProcessBus()
    seen: list[tuple[str, str]] = []

    async def make(group: str):
        async def handle(event: Event) -> None:
            seen.append((group, event.type))

        return handle

    bus.subscribe(group="a", types=["OrderPlaced"], handler=await make("a"))
    bus.subscribe(group="b", types=["OrderPlaced", "OrderStatusChanged"], handler=await make("b"))
    await bus.start()
    await bus.publish(Event(type="OrderPlaced", source="t", payload={}))
    await bus.publish(Event(type="OrderStatusChanged", source="t", payload={}))
    await bus.drain()
    await bus.stop()
    assert sorted(seen) == [("a", "OrderPlaced"), ("b", "OrderPlaced"), ("b", "OrderStatusChanged")]


async def test_in_process_bus_retries_a_failing_handler() -> None:
    bus = InProcessBus()
    attempts = 0

    async def flaky(event: Event) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise RuntimeError("transient")

    bus.subscribe(group="g", types=["X"], handler=flaky)
    await bus.start()
    await bus.publish(Event(type="X", source="t", payload={}))
    await bus.drain()
    await bus.stop()
    assert attempts == 3


async def test_event_round_trips_through_json() -> None:
    event = Event(
        type="OrderPlaced", source="orders", payload={"orderId": "o1", "total": {"amount": 1299}}
    )
    assert Event.from_json(event.to_json()) == event


@pytest.mark.redis
async def test_redis_streams_deliver_once_per_group() -> None:
    await redis_or_skip()
    namespace = f"pizza-test-{uuid.uuid4().hex[:8]}"
    received: dict[str, list[str]] = {"payments": [], "delivery": []}
    done = asyncio.Event()

    def handler(group: str):
        async def handle(event: Event) -> None:
            received[group].append(event.id)
            if all(len(v) == 2 for v in received.values()):
                done.set()

        return handle

    publisher = RedisStreamsBus(REDIS_URL, namespace=namespace)
    consumer = RedisStreamsBus(REDIS_URL, namespace=namespace)
    for group in received:
        consumer.subscribe(group=group, types=["OrderPlaced"], handler=handler(group))
    try:
        await consumer.start()
        events = [Event(type="OrderPlaced", source="t", payload={"n": i}) for i in range(2)]
        for event in events:
            await publisher.publish(event)
        await asyncio.wait_for(done.wait(), timeout=10)
        ids = [e.id for e in events]
        assert received == {"payments": ids, "delivery": ids}
    finally:
        await consumer.stop()
        await publisher.stop()
        await cleanup(namespace)


@pytest.mark.redis
async def test_redis_streams_redeliver_unacknowledged_after_restart() -> None:
    await redis_or_skip()
    namespace = f"pizza-test-{uuid.uuid4().hex[:8]}"
    event = Event(type="PaymentDeclined", source="t", payload={})
    publisher = RedisStreamsBus(REDIS_URL, namespace=namespace)
    first_try = asyncio.Event()

    async def crash(_: Event) -> None:
        first_try.set()
        await asyncio.sleep(3600)  # the consumer dies before acknowledging

    consumer = RedisStreamsBus(REDIS_URL, namespace=namespace, consumer="worker-1")
    consumer.subscribe(group="orders", types=["PaymentDeclined"], handler=crash)
    try:
        await consumer.start()
        await publisher.publish(event)
        await asyncio.wait_for(first_try.wait(), timeout=10)
        await consumer.stop()

        delivered: list[str] = []
        again = asyncio.Event()

        async def handle(e: Event) -> None:
            delivered.append(e.id)
            again.set()

        restarted = RedisStreamsBus(REDIS_URL, namespace=namespace, consumer="worker-1")
        restarted.subscribe(group="orders", types=["PaymentDeclined"], handler=handle)
        await restarted.start()
        await asyncio.wait_for(again.wait(), timeout=10)
        await restarted.stop()
        assert delivered == [event.id]
    finally:
        await publisher.stop()
        await cleanup(namespace)
