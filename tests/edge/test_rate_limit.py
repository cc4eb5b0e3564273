"""Rate limits per IP, per client and global; in memory and in Redis (shared by replicas)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from router.edge.config import RateLimit, RateLimitConfig, RedisConfig
from router.edge.rate_limit import (
    MemoryBucketStore,
    RateLimiter,
    RedisBucketStore,
    default_client_key,
    ip_key_function,
)
from router.errors import RequestError
from tests.edge.conftest import RouterFactory, code_of

ME = {"query": "{ me { name } }"}
REDIS_URL = "redis://127.0.0.1:6379/0"


def shaping(namespace: str | None = None, **limits: Any) -> dict[str, Any]:
    router: dict[str, Any] = dict(limits)
    if namespace:
        router["rate_limit_storage"] = {"redis": {"urls": [REDIS_URL], "namespace": namespace}}
    return {"traffic_shaping": {"router": router}}


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("redis_namespace") if request.param == "redis" else None


def allowed_count(send: Any, attempts: int) -> int:
    """How many of ``attempts`` requests pass before the first 429 (bounded loop)."""
    for attempt in range(attempts):
        response = send()
        if response.status_code == 429:
            assert code_of(response) == "REQUEST_RATE_LIMITED"
            assert int(response.headers["retry-after"]) >= 1
            return attempt
        assert response.status_code == 200, response.text
    return attempts


def test_per_ip_limit(edge_router: RouterFactory, store: str | None) -> None:
    router = edge_router(**shaping(store, ip_rate_limit={"capacity": 3, "interval": "1h"}))
    assert allowed_count(lambda: router.post(ME), 10) == 3
    # The 429 comes before the body is read or anything runs.
    assert router.post({"query": "{ nope"}).status_code == 429


def test_per_client_limit_by_client_name(edge_router: RouterFactory, store: str | None) -> None:
    router = edge_router(**shaping(store, client_rate_limit={"capacity": 2, "interval": "1h"}))
    web = {"apollographql-client-name": "web"}
    kiosk = {"apollographql-client-name": "kiosk"}
    assert allowed_count(lambda: router.post(ME, headers=web), 5) == 2
    assert allowed_count(lambda: router.post(ME, headers=kiosk), 5) == 2
    assert allowed_count(lambda: router.post(ME), 5) == 5  # unnamed: only IP/global limits


def test_global_limit(edge_router: RouterFactory, store: str | None) -> None:
    router = edge_router(**shaping(store, global_rate_limit={"capacity": 4, "interval": "1h"}))
    names = iter(f"client-{n}" for n in range(100))
    assert (
        allowed_count(
            lambda: router.post(ME, headers={"apollographql-client-name": next(names)}), 8
        )
        == 4
    )


def test_a_batch_takes_one_token_per_operation(edge_router: RouterFactory) -> None:
    router = edge_router(
        batching={"enabled": True},
        **shaping(None, ip_rate_limit={"capacity": 3, "interval": "1h"}),
    )
    assert router.post([ME, ME]).status_code == 200
    assert router.post([ME, ME]).status_code == 429


def test_redis_buckets_are_shared_by_replicas(
    edge_router: RouterFactory, redis_namespace: str
) -> None:
    limits = shaping(redis_namespace, ip_rate_limit={"capacity": 4, "interval": "1h"})
    first, second = edge_router(**limits), edge_router(**limits)
    routers = iter([first, second] * 5)
    assert allowed_count(lambda: next(routers).post(ME), 10) == 4


def test_unreachable_redis_lets_requests_through(edge_router: RouterFactory) -> None:
    router = edge_router(
        traffic_shaping={
            "router": {
                "ip_rate_limit": {"capacity": 1, "interval": "1h"},
                "rate_limit_storage": {"redis": {"urls": ["redis://127.0.0.1:1/0"]}},
            }
        }
    )
    assert allowed_count(lambda: router.post(ME), 3) == 3


async def test_memory_bucket_refills_over_time() -> None:
    now = [0.0]
    store = MemoryBucketStore(clock=lambda: now[0])
    limit = RateLimit(capacity=2, interval=1.0)
    assert await store.take("k", limit, 1) == 0
    assert await store.take("k", limit, 1) == 0
    assert await store.take("k", limit, 1) == pytest.approx(0.5)
    now[0] = 0.5
    assert await store.take("k", limit, 1) == 0
    now[0] = 100.0
    assert await store.take("k", limit, 2) == 0  # refilled to capacity, not beyond
    assert await store.take("k", limit, 1) > 0


async def test_redis_bucket_refills_over_time(redis_namespace: str) -> None:
    store = RedisBucketStore(RedisConfig(urls=(REDIS_URL,), namespace=redis_namespace))
    limit = RateLimit(capacity=2, interval=0.2)
    try:
        assert await store.take("k", limit, 1) == 0
        assert await store.take("k", limit, 1) == 0
        wait = await store.take("k", limit, 1)
        assert 0 < wait <= 0.2
        await asyncio.sleep(0.25)
        assert await store.take("k", limit, 1) == 0
    finally:
        await store.close()


async def test_key_functions_are_pluggable() -> None:
    limiter = RateLimiter(
        RateLimitConfig(client=RateLimit(capacity=1, interval=3600)),
        client_key=lambda request: request.headers.get("x-api-key"),
    )
    request = SimpleNamespace(headers={"x-api-key": "abc"}, state=SimpleNamespace(), client=None)
    await limiter.check(request)
    with pytest.raises(RequestError) as limited:
        await limiter.check(request)
    assert limited.value.status == 429 and limited.value.headers["retry-after"] == "3600"


def test_client_key_prefers_the_verified_subject() -> None:
    claims = SimpleNamespace(claims={"sub": "usr_1"})
    named = {"apollographql-client-name": "web"}
    assert default_client_key(SimpleNamespace(state=claims, headers=named)) == "sub:usr_1"
    assert default_client_key(SimpleNamespace(state=SimpleNamespace(), headers=named)) == "name:web"
    assert default_client_key(SimpleNamespace(state=SimpleNamespace(), headers={})) is None


def test_ip_behind_trusted_proxies() -> None:
    request = SimpleNamespace(
        headers={"x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.2"},
        client=SimpleNamespace(host="10.0.0.1"),
    )
    assert ip_key_function(0)(request) == "10.0.0.1"
    assert ip_key_function(1)(request) == "10.0.0.2"
    assert ip_key_function(2)(request) == "203.0.113.7"
