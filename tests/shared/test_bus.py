"""The event bus: in-process delivery, and Redis Streams with consumer groups (real Redis)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

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


async def test_in_process_bus_keeps_the_order_within_a_group() -> None:
    bus = InProcessBus()
    seen: list[int] = []

    async def slow_first(event: Event) -> None:
        if event.payload["n"] == 0:
            await asyncio.sleep(0.05)  # the next event must wait for this one
        seen.append(event.payload["n"])

    bus.subscribe(group="g", types=["A"], handler=slow_first)
    bus.subscribe(group="g", types=["B"], handler=slow_first)
    await bus.start()
    await bus.publish(Event(type="A", source="t", payload={"n": 0}))
    await bus.publish(Event(type="B", source="t", payload={"n": 1}))
    await bus.drain()
    await bus.stop()
    assert seen == [0, 1]


async def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.02)


async def _consumers(namespace: str, event_type: str, group: str) -> list[str]:
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        found = await client.xinfo_consumers(f"{namespace}:events:{event_type}", group)
        return sorted(c["name"].decode() for c in found)
    finally:
        await client.aclose()


async def _wait_for_async(probe, expected, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) != expected:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{value!r} != {expected!r}")
        await asyncio.sleep(0.05)


async def _pending(namespace: str, event_type: str, group: str) -> int:
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        summary = await client.xpending(f"{namespace}:events:{event_type}", group)
        return int(summary["pending"])
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_redis_streams_another_consumer_claims_a_dead_consumers_events() -> None:
    await redis_or_skip()
    namespace = f"pizza-test-{uuid.uuid4().hex[:8]}"
    event = Event(type="OrderPlaced", source="t", payload={})
    stuck = asyncio.Event()

    async def hang(_: Event) -> None:
        stuck.set()
        await asyncio.sleep(3600)  # a consumer that died mid-handler

    handled: list[str] = []

    async def handle(e: Event) -> None:
        handled.append(e.id)

    dead = RedisStreamsBus(REDIS_URL, namespace=namespace, consumer="payments-a")
    dead.subscribe(group="payments", types=["OrderPlaced"], handler=hang)
    survivor = RedisStreamsBus(
        REDIS_URL,
        namespace=namespace,
        consumer="payments-b",
        claim_idle_ms=200,
        claim_interval=0.05,
    )
    survivor.subscribe(group="payments", types=["OrderPlaced"], handler=handle)
    try:
        await dead.start()
        await dead.publish(event)
        await asyncio.wait_for(stuck.wait(), timeout=10)
        await dead.stop()
        survivor.forget_after_ms = 300  # the dead one, once it has nothing pending
        await survivor.start()
        await _wait_for(lambda: handled == [event.id])
        assert await _pending(namespace, "OrderPlaced", "payments") == 0
        await _wait_for_async(
            lambda: _consumers(namespace, "OrderPlaced", "payments"), ["payments-b"]
        )
    finally:
        await dead.stop()
        await survivor.stop()
        await cleanup(namespace)


@pytest.mark.redis
async def test_redis_streams_dead_letter_a_poison_message_without_blocking_the_stream() -> None:
    await redis_or_skip()
    import redis.asyncio as redis

    namespace = f"pizza-test-{uuid.uuid4().hex[:8]}"
    poison = Event(type="ReviewPosted", source="t", payload={"poison": True})
    good = Event(type="ReviewPosted", source="t", payload={})
    handled: list[str] = []
    tries: list[str] = []

    async def handle(e: Event) -> None:
        tries.append(e.id)
        if e.payload.get("poison"):
            raise ValueError("cannot handle this one")
        handled.append(e.id)

    bus = RedisStreamsBus(
        REDIS_URL,
        namespace=namespace,
        consumer="n-1",
        claim_idle_ms=50,
        claim_interval=0.05,
        max_deliveries=2,
    )
    bus.subscribe(group="notifications", types=["ReviewPosted"], handler=handle)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await bus.start()
        await bus.publish(poison)
        await bus.publish(good)
        await _wait_for(lambda: handled == [good.id])
        dead_letters = bus.dead_letter_stream("notifications")
        await _wait_for(lambda: tries.count(poison.id) >= 6)  # 2 deliveries x 3 attempts
        for _ in range(100):
            entries = await client.xrange(dead_letters)
            if entries:
                break
            await asyncio.sleep(0.05)
        assert entries
        [(_, fields)] = entries
        assert fields is not None
        assert Event.from_json(fields[b"event"]).id == poison.id
        assert await _pending(namespace, "ReviewPosted", "notifications") == 0
        assert tries.count(poison.id) == 6 and handled == [good.id]
    finally:
        await bus.stop()
        await client.aclose()
        await cleanup(namespace)


@pytest.mark.redis
async def test_redis_streams_recreate_groups_lost_in_a_redis_restart() -> None:
    await redis_or_skip()
    import redis.asyncio as redis

    namespace = f"pizza-test-{uuid.uuid4().hex[:8]}"
    handled: list[str] = []

    async def handle(e: Event) -> None:
        handled.append(e.id)

    bus = RedisStreamsBus(REDIS_URL, namespace=namespace, block_ms=100)
    bus.subscribe(group="orders", types=["PaymentAuthorized"], handler=handle)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await bus.start()
        first = Event(type="PaymentAuthorized", source="t", payload={})
        await bus.publish(first)
        await _wait_for(lambda: handled == [first.id])
        # A Redis without persistence comes back empty: no stream, no group.
        await client.delete(f"{namespace}:events:PaymentAuthorized")
        await asyncio.sleep(0.3)
        second = Event(type="PaymentAuthorized", source="t", payload={})
        await bus.publish(second)  # may land before the group exists again: read from 0
        await _wait_for(lambda: handled == [first.id, second.id])
    finally:
        await bus.stop()
        await client.aclose()
        await cleanup(namespace)


async def test_the_claim_idle_time_comes_from_the_settings(tmp_path: Path) -> None:
    from shared.settings import Settings
    from shared.subgraph import SubgraphRuntime

    settings = Settings(
        data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0", bus_claim_idle_seconds=2.5
    )
    runtime = SubgraphRuntime.create("delivery", settings=settings)
    try:
        assert isinstance(runtime.bus, RedisStreamsBus)
        assert runtime.bus.claim_idle_ms == 2500
    finally:
        await runtime.db.dispose()
